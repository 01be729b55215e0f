import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageProvider } from '../storage/storage-provider';

/**
 * What a provider contract factory returns.
 * @publicApi
 */
export interface StorageProviderFixture {
  provider: StorageProvider;
  dispose?: () => Promise<void>;
}

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

const MiB = 1024 * 1024;

/**
 * Read a whole stream (test helper; fine for test-sized data).
 * @publicApi
 */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The contract every `StorageProvider` must pass. `createFixture` runs once per describe block and may share a
 * backend; every test writes under its own random prefix.
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
    let provider: StorageProvider;
    let prefix: string;

    beforeAll(async () => {
      fixture = await createFixture();
      provider = fixture.provider;
    }, timeout);

    afterAll(async () => {
      await fixture?.dispose?.();
    }, timeout);

    beforeEach(() => {
      prefix = `contract-${randomBytes(5).toString('hex')}`;
    });

    const put = (path: string, data: Buffer, contentType?: string, metadata?: Record<string, string>) =>
      provider.put(path, Readable.from([data]), { contentType, metadata });

    it(
      'puts and gets a blob with content type and metadata',
      async () => {
        const data = randomBytes(10_000);
        const info = await put(`${prefix}/a/b.bin`, data, 'image/png', { filename: 'b.bin', owner_id: 'u1' });
        expect(info).toMatchObject({ path: `${prefix}/a/b.bin`, size: data.length, contentType: 'image/png' });
        const read = await provider.get(`${prefix}/a/b.bin`);
        expect(await readAll(read.stream)).toEqual(data);
        expect(read.info.metadata).toEqual({ filename: 'b.bin', owner_id: 'u1' });
        const stat = await provider.stat(`${prefix}/a/b.bin`);
        expect(stat).toMatchObject({
          size: data.length,
          contentType: 'image/png',
          metadata: { filename: 'b.bin', owner_id: 'u1' },
        });
      },
      timeout,
    );

    it(
      'rejects metadata keys that would not round-trip on every provider',
      async () => {
        await expect(put(`${prefix}/m.bin`, Buffer.from('x'), undefined, { 'Bad-Key': 'v' })).rejects.toMatchObject({
          code: 'INVALID_METADATA',
        });
      },
      timeout,
    );

    it(
      'serves inclusive, open-ended and clamped ranges; rejects ranges past the end',
      async () => {
        const data = randomBytes(1000);
        await put(`${prefix}/r.bin`, data);
        expect(await readAll((await provider.get(`${prefix}/r.bin`, { start: 10, end: 19 })).stream)).toEqual(
          data.subarray(10, 20),
        );
        expect(await readAll((await provider.get(`${prefix}/r.bin`, { start: 990 })).stream)).toEqual(
          data.subarray(990),
        );
        const clamped = await provider.get(`${prefix}/r.bin`, { start: 995, end: 5000 });
        expect(clamped.range).toEqual({ start: 995, end: 999 });
        expect(await readAll(clamped.stream)).toEqual(data.subarray(995));
        await expect(provider.get(`${prefix}/r.bin`, { start: 1000 })).rejects.toMatchObject({ code: 'INVALID_RANGE' });
      },
      timeout,
    );

    it(
      'reports missing blobs',
      async () => {
        expect(await provider.stat(`${prefix}/missing`)).toBeNull();
        expect(await provider.exists(`${prefix}/missing`)).toBe(false);
        await expect(provider.get(`${prefix}/missing`)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
      },
      timeout,
    );

    it(
      'deletes idempotently',
      async () => {
        await put(`${prefix}/d.bin`, Buffer.from('x'));
        expect(await provider.exists(`${prefix}/d.bin`)).toBe(true);
        expect(await provider.delete(`${prefix}/d.bin`)).toBe(true);
        expect(await provider.exists(`${prefix}/d.bin`)).toBe(false);
        expect(await provider.delete(`${prefix}/d.bin`)).toBe(false);
      },
      timeout,
    );

    it(
      'rejects invalid paths before touching the backend',
      async () => {
        for (const bad of ['../x', 'a/../../x', '/abs', 'a\\b', 'a\0b', 'a//b', '.valiblob/x', 'a/\u0001']) {
          await expect(put(bad, Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_PATH' });
          await expect(provider.get(bad)).rejects.toMatchObject({ code: 'INVALID_PATH' });
        }
      },
      timeout,
    );

    it(
      'copies and moves with metadata',
      async () => {
        const data = randomBytes(2048);
        await put(`${prefix}/src.bin`, data, 'text/plain', { k: 'v' });
        await provider.copy(`${prefix}/src.bin`, `${prefix}/copy.bin`);
        expect(await readAll((await provider.get(`${prefix}/copy.bin`)).stream)).toEqual(data);
        expect(await provider.stat(`${prefix}/copy.bin`)).toMatchObject({
          contentType: 'text/plain',
          metadata: { k: 'v' },
        });
        await provider.move(`${prefix}/copy.bin`, `${prefix}/moved/m.bin`);
        expect(await provider.exists(`${prefix}/copy.bin`)).toBe(false);
        expect(await provider.stat(`${prefix}/moved/m.bin`)).toMatchObject({ size: 2048, metadata: { k: 'v' } });
      },
      timeout,
    );

    it(
      'lists with a real cursor: every object once, in order',
      async () => {
        const count = options.listObjects ?? 2500;
        const names = Array.from({ length: count }, (_, i) => `${prefix}/list/${String(i).padStart(5, '0')}`);
        for (let i = 0; i < names.length; i += 50) {
          await Promise.all(names.slice(i, i + 50).map((n) => put(n, Buffer.from('x'))));
        }
        await put(`${prefix}/other.bin`, Buffer.from('y'));
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await provider.list(`${prefix}/list/`, { cursor, limit: 1000 });
          seen.push(...page.items.map((i) => i.path));
          cursor = page.nextCursor ?? undefined;
          pages++;
        } while (cursor && pages < 100);
        expect(seen).toEqual(names);
        expect(pages).toBe(Math.ceil(count / 1000));
      },
      Math.max(timeout, 300_000),
    );

    for (const chunkSize of options.chunkSizes ?? [1, 4096, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 17 * MiB]) {
      it(
        `resumable begin/write/complete is byte-exact with ${chunkSize}-byte chunks`,
        async () => {
          // Enough data for several chunks (a 1-byte chunk size uses a small file to stay quick).
          const total = chunkSize === 1 ? 64 : Math.min(chunkSize * 3 + 12345, 40 * MiB);
          const data = randomBytes(total);
          const path = `${prefix}/resumable.bin`;
          let state = await provider.beginUpload({
            uploadId: `u${prefix.slice(9)}`,
            path,
            totalSize: total,
            contentType: 'application/x-test',
            metadata: { a: 'b' },
          });
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
          const info = await provider.completeUpload(state, {
            uploadId: 'x',
            path,
            totalSize: total,
            contentType: 'application/x-test',
            metadata: { a: 'b' },
          });
          expect(info.size).toBe(total);
          const read = await readAll((await provider.get(path)).stream);
          expect(createHash('sha256').update(read).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
          expect(await provider.stat(path)).toMatchObject({ contentType: 'application/x-test', metadata: { a: 'b' } });
        },
        timeout,
      );
    }

    it(
      'discards a chunk whose beforeCommit throws; the upload continues from the old offset',
      async () => {
        const path = `${prefix}/discard.bin`;
        const first = randomBytes(1000);
        const second = randomBytes(1000);
        let state = await provider.beginUpload({
          uploadId: `d${prefix.slice(9)}`,
          path,
          totalSize: 2000,
          contentType: null,
          metadata: {},
        });
        state = (await provider.writeChunk(state, 0, Readable.from([first]))).state;
        await expect(
          provider.writeChunk(state, 1000, Readable.from([randomBytes(1000)]), {
            beforeCommit: () => {
              throw new Error('checksum mismatch');
            },
          }),
        ).rejects.toThrow('checksum mismatch');
        state = (await provider.writeChunk(state, 1000, Readable.from([second]), { isFinal: true })).state;
        await provider.completeUpload(state, { uploadId: 'x', path, totalSize: 2000, contentType: null, metadata: {} });
        expect(await readAll((await provider.get(path)).stream)).toEqual(Buffer.concat([first, second]));
      },
      timeout,
    );

    /** Begin an upload at `path` and stage all of `data` in one chunk; returns the state to complete. */
    const stage = async (uploadId: string, path: string, data: Buffer) => {
      const begin = { uploadId, path, totalSize: data.length, contentType: null, metadata: {} };
      const state = await provider.beginUpload(begin);
      return (await provider.writeChunk(state, 0, Readable.from([data]), { isFinal: true })).state;
    };

    it(
      'a late writer from a stale state never changes committed bytes (fencing through the state)',
      async () => {
        // Writer 2's states are the committed ones (the engine persists them through the fenced advance); writer 1
        // paused and writes from a stale state afterwards. Only the committed state may decide the blob.
        const path = `${prefix}/fenced.bin`;
        const a = randomBytes(3000);
        const b = randomBytes(3000);
        const uploadId = `f${prefix.slice(9)}`;
        const write = (state: Record<string, unknown>, offset: number, data: Buffer, isFinal = false) =>
          provider.writeChunk(state, offset, Readable.from([data]), { expectedLength: data.length, isFinal });
        const s0 = await provider.beginUpload({ uploadId, path, totalSize: 3000, contentType: null, metadata: {} });
        const s1 = (await write(s0, 0, b.subarray(0, 1000))).state;
        await write(s0, 0, a.subarray(0, 1000)).catch(() => undefined);
        const s2 = (await write(s1, 1000, b.subarray(1000, 2000))).state;
        await write(s1, 1000, a.subarray(1000, 2000)).catch(() => undefined);
        const s3 = (await write(s2, 2000, b.subarray(2000), true)).state;
        await write(s2, 2000, a.subarray(2000), true).catch(() => undefined);
        await provider.completeUpload(s3, { uploadId, path, totalSize: 3000, contentType: null, metadata: {} });
        expect(await readAll((await provider.get(path)).stream)).toEqual(b);
      },
      timeout,
    );

    it(
      'overwrite:false at complete: BLOB_EXISTS, existing blob intact, staged data kept for elsewhere',
      async () => {
        const path = `${prefix}/taken.bin`;
        const original = randomBytes(500);
        await put(path, original, 'text/plain', { owner: 'first' });
        const data = randomBytes(1500);
        const uploadId = `o${prefix.slice(9)}`;
        const state = await stage(uploadId, path, data);
        const request = {
          uploadId,
          path,
          totalSize: data.length,
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
      },
      timeout,
    );

    it(
      'overwrite true (or absent) at complete replaces an existing blob',
      async () => {
        const path = `${prefix}/replaced.bin`;
        await put(path, randomBytes(100));
        const data = randomBytes(300);
        const uploadId = `w${prefix.slice(9)}`;
        const state = await stage(uploadId, path, data);
        const request = { uploadId, path, totalSize: data.length, contentType: null, metadata: {}, overwrite: true };
        await provider.completeUpload(state, request);
        expect(await readAll((await provider.get(path)).stream)).toEqual(data);
      },
      timeout,
    );

    it(
      'completes to a path other than the one given to beginUpload (or says NOT_SUPPORTED)',
      async () => {
        const data = randomBytes(700);
        const uploadId = `p${prefix.slice(9)}`;
        const begun = `${prefix}/begun.bin`;
        const target = `${prefix}/elsewhere/final.bin`;
        const state = await stage(uploadId, begun, data);
        const request = {
          uploadId,
          path: target,
          totalSize: data.length,
          contentType: null,
          metadata: {},
          overwrite: false,
        };
        try {
          await provider.completeUpload(state, request);
        } catch (error) {
          expect(error).toMatchObject({ code: 'NOT_SUPPORTED' });
          return;
        }
        expect(await readAll((await provider.get(target)).stream)).toEqual(data);
        expect(await provider.exists(begun)).toBe(false);
      },
      timeout,
    );

    it(
      'aborts an upload idempotently and publishes nothing',
      async () => {
        const path = `${prefix}/aborted.bin`;
        const state = await provider.beginUpload({
          uploadId: `a${prefix.slice(9)}`,
          path,
          totalSize: 10,
          contentType: null,
          metadata: {},
        });
        await provider.writeChunk(state, 0, Readable.from([Buffer.from('12345')]));
        await provider.abortUpload(state);
        await provider.abortUpload(state);
        expect(await provider.exists(path)).toBe(false);
      },
      timeout,
    );

    it(
      'answers its health probe',
      async () => {
        await expect(provider.ping()).resolves.toBeUndefined();
      },
      timeout,
    );
  });
}
