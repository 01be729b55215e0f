import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { NotSupportedError } from '../errors/vali-blob.errors';
import type { ResumableState, StorageProvider } from '../storage/storage-provider';
import { contractCase, readAll, StorageContractContext } from './storage-contract.context';

/**
 * The staged-read cases of the storage contract (`readStaged` / `canReadStaged`): a provider that says it can read
 * staged data streams exactly the committed bytes, afresh on every call, without disturbing the upload; one that
 * says it cannot refuses with `NOT_SUPPORTED`. Which case applies is decided by the flag at run time (the fixture
 * does not exist yet when cases are registered); the other one returns at once.
 */
export function registerStagedCases(ctx: StorageContractContext): void {
  const check = contractCase(ctx);
  let provider: StorageProvider;
  let prefix: string;
  beforeEach(() => ({ provider, prefix } = ctx));

  // Large enough for several stream chunks, small enough for every backend's non-final part rules.
  const first = randomBytes(150 * 1024 + 7);
  const second = randomBytes(90 * 1024 + 3);
  const data = Buffer.concat([first, second]);

  const request = (uploadId: string, path: string) => ({
    uploadId,
    path,
    totalSize: data.length,
    contentType: 'application/x-staged',
    metadata: { scan: 'pending' },
  });

  /** Begin an upload and stage `data` in two chunks (two writeChunk calls, as a resumable client would). */
  const stageTwoChunks = async (uploadId: string, path: string): Promise<ResumableState> => {
    let state = await provider.beginUpload(request(uploadId, path));
    state = (await provider.writeChunk(state, 0, Readable.from([first]), { expectedLength: first.length })).state;
    const options = { expectedLength: second.length, isFinal: true };
    return (await provider.writeChunk(state, first.length, Readable.from([second]), options)).state;
  };

  check(
    'readStaged (when canReadStaged) streams exactly the staged bytes, afresh each call; complete still works',
    async () => {
      if (!provider.canReadStaged) return;
      const path = `${prefix}/staged.bin`;
      const uploadId = `s${prefix.slice(9)}`;
      const state = await stageTwoChunks(uploadId, path);

      expect((await readAll(await provider.readStaged(state, data.length))).equals(data)).toBe(true);
      // A second call is a new stream from byte 0, not the rest of (or a replay of) the first one.
      expect((await readAll(await provider.readStaged(state, data.length))).equals(data)).toBe(true);
      // A consumer that stops early (a scanner that found what it was looking for) leaves nothing in the way.
      const abandoned = await provider.readStaged(state, data.length);
      await once(abandoned, 'readable');
      abandoned.destroy();
      await once(abandoned, 'close');
      expect(await provider.exists(path)).toBe(false);

      const info = await provider.completeUpload(state, request(uploadId, path));
      expect(info).toMatchObject({ path, size: data.length, contentType: 'application/x-staged' });
      expect((await readAll((await provider.get(path)).stream)).equals(data)).toBe(true);
      expect(await provider.stat(path)).toMatchObject({ metadata: { scan: 'pending' } });
    },
  );

  check('readStaged (when not canReadStaged) rejects with NOT_SUPPORTED; the upload still completes', async () => {
    if (provider.canReadStaged) return;
    const path = `${prefix}/unreadable.bin`;
    const uploadId = `n${prefix.slice(9)}`;
    const state = await stageTwoChunks(uploadId, path);

    const refusal = provider.readStaged(state, data.length);
    await expect(refusal).rejects.toBeInstanceOf(NotSupportedError);
    await expect(refusal).rejects.toMatchObject({ code: 'NOT_SUPPORTED', status: 501 });
    await provider.completeUpload(state, request(uploadId, path));
    expect((await readAll((await provider.get(path)).stream)).equals(data)).toBe(true);
  });
}
