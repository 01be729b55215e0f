import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { StorageProvider } from '../storage/storage-provider';
import { contractCase, readAll, StorageContractContext } from './storage-contract.context';

const MiB = 1024 * 1024;

/**
 * The resumable cases of the storage contract: byte-exact round trips over chunk sizes, discarded chunks, fencing
 * through the state, overwrite policies at complete, completing elsewhere, abort, and the health probe.
 */
export function registerResumableCases(ctx: StorageContractContext): void {
  const check = contractCase(ctx);
  let provider: StorageProvider;
  let prefix: string;
  beforeEach(() => ({ provider, prefix } = ctx));

  /** A begin (or complete) request without content type or metadata. */
  const untyped = (uploadId: string, path: string, totalSize: number) => ({
    uploadId,
    path,
    totalSize,
    contentType: null,
    metadata: {},
  });

  for (const chunkSize of ctx.options.chunkSizes ?? [1, 4096, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 17 * MiB]) {
    check(`resumable begin/write/complete is byte-exact with ${chunkSize}-byte chunks`, async () => {
      // Enough data for several chunks (a 1-byte chunk size uses a small file to stay quick).
      const total = chunkSize === 1 ? 64 : Math.min(chunkSize * 3 + 12345, 40 * MiB);
      const data = randomBytes(total);
      const path = `${prefix}/resumable.bin`;
      const typed = { contentType: 'application/x-test', metadata: { a: 'b' } };
      let state = await provider.beginUpload({ uploadId: `u${prefix.slice(9)}`, path, totalSize: total, ...typed });
      let offset = 0;
      while (offset < total) {
        const end = Math.min(offset + chunkSize, total);
        const result = await provider.writeChunk(state, offset, Readable.from([data.subarray(offset, end)]), {
          expectedLength: end - offset,
          isFinal: end === total,
        });
        expect(result.bytesWritten).toBe(end - offset);
        state = result.state;
        offset = end;
      }
      const info = await provider.completeUpload(state, { uploadId: 'x', path, totalSize: total, ...typed });
      expect(info.size).toBe(total);
      const read = await readAll((await provider.get(path)).stream);
      expect(createHash('sha256').update(read).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      expect(await provider.stat(path)).toMatchObject({ contentType: 'application/x-test', metadata: { a: 'b' } });
    });
  }

  check('discards a chunk whose beforeCommit throws; the upload continues from the old offset', async () => {
    const path = `${prefix}/discard.bin`;
    const first = randomBytes(1000);
    const second = randomBytes(1000);
    let state = await provider.beginUpload(untyped(`d${prefix.slice(9)}`, path, 2000));
    state = (await provider.writeChunk(state, 0, Readable.from([first]))).state;
    await expect(
      provider.writeChunk(state, 1000, Readable.from([randomBytes(1000)]), {
        beforeCommit: () => {
          throw new Error('checksum mismatch');
        },
      }),
    ).rejects.toThrow('checksum mismatch');
    state = (await provider.writeChunk(state, 1000, Readable.from([second]), { isFinal: true })).state;
    await provider.completeUpload(state, untyped('x', path, 2000));
    expect(await readAll((await provider.get(path)).stream)).toEqual(Buffer.concat([first, second]));
  });

  /** Begin an upload at `path` and stage all of `data` in one chunk; returns the state to complete. */
  const stage = async (uploadId: string, path: string, data: Buffer) => {
    const state = await provider.beginUpload(untyped(uploadId, path, data.length));
    return (await provider.writeChunk(state, 0, Readable.from([data]), { isFinal: true })).state;
  };

  check('a late writer from a stale state never changes committed bytes (fencing through the state)', async () => {
    // Writer 2's states are the committed ones (the engine persists them through the fenced advance); writer 1
    // paused and writes from a stale state afterwards. Only the committed state may decide the blob.
    const path = `${prefix}/fenced.bin`;
    const a = randomBytes(3000);
    const b = randomBytes(3000);
    const uploadId = `f${prefix.slice(9)}`;
    const write = (state: Record<string, unknown>, offset: number, data: Buffer, isFinal = false) =>
      provider.writeChunk(state, offset, Readable.from([data]), { expectedLength: data.length, isFinal });
    const s0 = await provider.beginUpload(untyped(uploadId, path, 3000));
    const s1 = (await write(s0, 0, b.subarray(0, 1000))).state;
    await write(s0, 0, a.subarray(0, 1000)).catch(() => undefined);
    const s2 = (await write(s1, 1000, b.subarray(1000, 2000))).state;
    await write(s1, 1000, a.subarray(1000, 2000)).catch(() => undefined);
    const s3 = (await write(s2, 2000, b.subarray(2000), true)).state;
    await write(s2, 2000, a.subarray(2000), true).catch(() => undefined);
    await provider.completeUpload(s3, untyped(uploadId, path, 3000));
    expect(await readAll((await provider.get(path)).stream)).toEqual(b);
  });

  check('overwrite:false at complete: BLOB_EXISTS, existing blob intact, staged data kept for elsewhere', async () => {
    const path = `${prefix}/taken.bin`;
    const original = randomBytes(500);
    await provider.put(path, Readable.from([original]), { contentType: 'text/plain', metadata: { owner: 'first' } });
    const data = randomBytes(1500);
    const uploadId = `o${prefix.slice(9)}`;
    const state = await stage(uploadId, path, data);
    const request = {
      ...untyped(uploadId, path, data.length),
      contentType: 'application/x-new',
      metadata: { n: '1' },
    };
    await expect(provider.completeUpload(state, { ...request, overwrite: false })).rejects.toMatchObject({
      code: 'BLOB_EXISTS',
      status: 409,
    });
    expect(await readAll((await provider.get(path)).stream)).toEqual(original);
    expect(await provider.stat(path)).toMatchObject({ contentType: 'text/plain', metadata: { owner: 'first' } });
    // The engine's `rename` conflict policy retries the same staged data at another path (a provider that
    // cannot publish elsewhere says NOT_SUPPORTED; the staged data then still completes where it began).
    const other = `${prefix}/taken-1.bin`;
    const elsewhere = await provider
      .completeUpload(state, { ...request, path: other, overwrite: false })
      .catch((error) => {
        if ((error as { code?: string }).code !== 'NOT_SUPPORTED') throw error;
        return null;
      });
    if (elsewhere) {
      expect(elsewhere).toMatchObject({ path: other, size: data.length, contentType: 'application/x-new' });
      expect(await readAll((await provider.get(other)).stream)).toEqual(data);
      expect(await readAll((await provider.get(path)).stream)).toEqual(original);
    } else {
      await provider.completeUpload(state, { ...request, overwrite: true });
      expect(await readAll((await provider.get(path)).stream)).toEqual(data);
    }
  });

  check('overwrite true (or absent) at complete replaces an existing blob', async () => {
    const path = `${prefix}/replaced.bin`;
    await provider.put(path, Readable.from([randomBytes(100)]));
    const data = randomBytes(300);
    const uploadId = `w${prefix.slice(9)}`;
    const state = await stage(uploadId, path, data);
    const request = { ...untyped(uploadId, path, data.length), overwrite: true };
    await provider.completeUpload(state, request);
    expect(await readAll((await provider.get(path)).stream)).toEqual(data);
  });

  check('completes to a path other than the one given to beginUpload (or says NOT_SUPPORTED)', async () => {
    const data = randomBytes(700);
    const uploadId = `p${prefix.slice(9)}`;
    const begun = `${prefix}/begun.bin`;
    const target = `${prefix}/elsewhere/final.bin`;
    const state = await stage(uploadId, begun, data);
    const request = { ...untyped(uploadId, target, data.length), overwrite: false };
    try {
      await provider.completeUpload(state, request);
    } catch (error) {
      expect(error).toMatchObject({ code: 'NOT_SUPPORTED' });
      return;
    }
    expect(await readAll((await provider.get(target)).stream)).toEqual(data);
    expect(await provider.exists(begun)).toBe(false);
  });

  check('aborts an upload idempotently and publishes nothing', async () => {
    const path = `${prefix}/aborted.bin`;
    const state = await provider.beginUpload(untyped(`a${prefix.slice(9)}`, path, 10));
    await provider.writeChunk(state, 0, Readable.from([Buffer.from('12345')]));
    await provider.abortUpload(state);
    await provider.abortUpload(state);
    expect(await provider.exists(path)).toBe(false);
  });

  check('answers its health probe', async () => {
    await expect(provider.ping()).resolves.toBeUndefined();
  });
}
