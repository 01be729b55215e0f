import { Readable } from 'node:stream';
import type { StorageProvider } from '../storage/storage-provider';

/**
 * Tuning for slow backends.
 * @publicApi
 */
export interface StorageProviderContractOptions {
  /** Objects created for the paging test (default 2,500). */
  listObjects?: number;
  /** Chunk sizes the resumable round trip runs with (default 1 B, 4 KiB, 5 MiB−1, 5 MiB, 5 MiB+1, 17 MiB). */
  chunkSizes?: number[];
  /** Per-test timeout (default 120 s). */
  timeoutMs?: number;
}

/** What the cases of the storage contract share; `provider` and `prefix` are set by the contract's hooks. */
export interface StorageContractContext {
  /** The provider under test (set once the fixture exists). */
  provider: StorageProvider;
  /** A random path prefix, new for every test. */
  prefix: string;
  /** Per-test timeout. */
  timeout: number;
  /** The options the contract was run with. */
  options: StorageProviderContractOptions;
}

/**
 * Read a whole stream (test helper; fine for test-sized data).
 * @publicApi
 */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Registers one case of the contract with the contract's timeout (a `jest` `it`). */
export function contractCase(ctx: StorageContractContext): (title: string, run: () => Promise<void>) => void {
  return (title, run) => it(title, run, ctx.timeout);
}
