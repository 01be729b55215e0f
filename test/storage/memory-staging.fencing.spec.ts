import { Readable } from 'node:stream';
import { readAll } from '../../src/testing';
import { MemoryStorageProvider } from '../../src/storage/memory/memory-storage.provider';

const body = (data: Buffer) => Readable.from([data]);
const fill = (n: number, byte: string) => Buffer.alloc(n, byte);

describe('MemoryStorageProvider staging: only parts listed by the committed state make the blob', () => {
  it('a stale writer (state behind the committed one) cannot change the blob or stall the upload', async () => {
    const provider = new MemoryStorageProvider();
    const request = { uploadId: 'm1', path: 'm/final.bin', totalSize: 300, contentType: null, metadata: {} };
    const s0 = await provider.beginUpload(request);
    const s1 = (await provider.writeChunk(s0, 0, body(fill(100, 'a')))).state;
    // Two writers at offset 100 with the same state: the stale one finishes last.
    const s2 = (await provider.writeChunk(s1, 100, body(fill(100, 'b')))).state;
    await provider.writeChunk(s1, 100, body(fill(100, 'Z')));
    // The committed writer goes on from its own state (no INVALID_OFFSET from the stale bytes).
    const s3 = (await provider.writeChunk(s2, 200, body(fill(100, 'c')))).state;
    await provider.completeUpload(s3, request);
    expect(await readAll((await provider.get('m/final.bin')).stream)).toEqual(
      Buffer.concat([fill(100, 'a'), fill(100, 'b'), fill(100, 'c')]),
    );
  });

  it('of two uploads to one new path with overwrite:false, exactly one publishes', async () => {
    const provider = new MemoryStorageProvider();
    const states = [];
    for (const id of ['r1', 'r2']) {
      const begin = { uploadId: id, path: 'race.bin', totalSize: 2, contentType: null, metadata: {} };
      const s = await provider.beginUpload(begin);
      states.push((await provider.writeChunk(s, 0, body(Buffer.from(id)))).state);
    }
    const results = await Promise.allSettled(
      states.map((s, i) =>
        provider.completeUpload(s, {
          uploadId: `r${i}`,
          path: 'race.bin',
          totalSize: 2,
          contentType: null,
          metadata: {},
          overwrite: false,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'BLOB_EXISTS' } });
    expect(provider.stagedUploads).toBe(1);
  });
});
