import { randomBytes } from 'node:crypto';
import { StorageProvider } from '../storage/storage-provider';
import { registerBlobCases } from './storage-contract.blob-cases';
import { StorageContractContext, StorageProviderContractOptions } from './storage-contract.context';
import { registerResumableCases } from './storage-contract.resumable-cases';
import { registerStagedCases } from './storage-contract.staged-cases';

export { readAll } from './storage-contract.context';
export type { StorageProviderContractOptions } from './storage-contract.context';

/**
 * What a provider contract factory returns.
 * @publicApi
 */
export interface StorageProviderFixture {
  provider: StorageProvider;
  dispose?: () => Promise<void>;
}

/**
 * The contract every `StorageProvider` must pass. `createFixture` runs once per describe block and may share a
 * backend; every test writes under its own random prefix. The cases live in `storage-contract.blob-cases.ts`,
 * `storage-contract.resumable-cases.ts` and `storage-contract.staged-cases.ts`.
 * @publicApi
 */
export function runStorageProviderContract(
  name: string,
  createFixture: () => Promise<StorageProviderFixture>,
  options: StorageProviderContractOptions = {},
): void {
  const timeout = options.timeoutMs ?? 120_000;
  describe(`StorageProvider contract: ${name}`, () => {
    let fixture: StorageProviderFixture;
    // Filled in by the hooks below before any case runs (the cases copy both in their own `beforeEach`).
    const ctx: StorageContractContext = {
      provider: undefined as unknown as StorageProvider,
      prefix: '',
      timeout,
      options,
    };

    beforeAll(async () => {
      fixture = await createFixture();
      ctx.provider = fixture.provider;
    }, timeout);

    afterAll(async () => {
      await fixture?.dispose?.();
    }, timeout);

    beforeEach(() => {
      ctx.prefix = `contract-${randomBytes(5).toString('hex')}`;
    });

    registerBlobCases(ctx);
    registerResumableCases(ctx);
    registerStagedCases(ctx);
  });
}
