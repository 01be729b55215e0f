import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { LocalStorageProvider } from '../../src/storage/local/local-storage.provider';
import { ResumableState } from '../../src/storage/storage-provider';

const body = (data: Buffer) => Readable.from([data]);
const fill = (n: number, byte: string) => Buffer.alloc(n, byte);

/**
 * Byte-level fencing of the local provider's staging: whatever a writer does with a state that is not the
 * committed one (a stale writer that lost its lease, a concurrent request, a failing chunk), the bytes of the
 * committed state never change. Two provider instances on one root stand for two app instances.
 */
describe('LocalStorageProvider staging: a stale or failing writer never changes committed bytes', () => {
  let root: string;
  let one: LocalStorageProvider;
  let two: LocalStorageProvider;
  let id: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-fence-'));
    one = new LocalStorageProvider({ root });
    two = new LocalStorageProvider({ root });
    id = `up_${randomBytes(6).toString('hex')}`;
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const begin = (p: LocalStorageProvider, totalSize: number) =>
    p.beginUpload({ uploadId: id, path: 'x/final.bin', totalSize, contentType: null, metadata: {} });
  const complete = (p: LocalStorageProvider, state: ResumableState, totalSize: number, path = 'x/final.bin') =>
    p.completeUpload(state, { uploadId: id, path, totalSize, contentType: null, metadata: {} });
  const final = (path = 'x/final.bin') => readFile(join(root, path));

  it('gives two instances separate segment files, named by instance id and start offset', async () => {
    expect(one.instanceId).not.toBe(two.instanceId);
    let state = await begin(one, 200);
    state = (await one.writeChunk(state, 0, body(fill(100, 'a')))).state;
    state = (await two.writeChunk(state, 100, body(fill(100, 'b')))).state;
    const files = (await readdir(join(root, '.valiblob/staging', `${id}.parts`))).sort();
    expect(files).toHaveLength(2);
    expect(files.some((f) => f.startsWith(`${one.instanceId}-0-`))).toBe(true);
    expect(files.some((f) => f.startsWith(`${two.instanceId}-100-`))).toBe(true);
    await complete(two, state, 200);
    expect(await final()).toEqual(Buffer.concat([fill(100, 'a'), fill(100, 'b')]));
    // Published by copy (two segments), then every staged file went.
    await expect(stat(join(root, '.valiblob/staging', `${id}.parts`))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a stale writer of the SAME instance (state behind the committed one) starts a new segment', async () => {
    let s1 = await begin(one, 200);
    s1 = (await one.writeChunk(s1, 0, body(fill(100, 'a')))).state;
    const s2 = (await one.writeChunk(s1, 100, body(fill(100, 'b')))).state;
    // Writer that read the session at offset 100 before losing its lease: its bytes land elsewhere.
    await one.writeChunk(s1, 100, body(fill(100, 'Z')));
    await complete(one, s2, 200);
    expect(await final()).toEqual(Buffer.concat([fill(100, 'a'), fill(100, 'b')]));
  });

  it('a stale writer of ANOTHER instance writes only its own segment', async () => {
    let s1 = await begin(one, 200);
    s1 = (await one.writeChunk(s1, 0, body(fill(100, 'a')))).state;
    const s2 = (await one.writeChunk(s1, 100, body(fill(100, 'b')))).state;
    await two.writeChunk(s1, 100, body(fill(100, 'Z')));
    await two.writeChunk({ upload: id, segments: [] }, 0, body(fill(100, 'Y')));
    await complete(two, s2, 200);
    expect(await final()).toEqual(Buffer.concat([fill(100, 'a'), fill(100, 'b')]));
  });

  it('a failing chunk truncates only what it wrote itself, never bytes another writer committed', async () => {
    let s1 = await begin(one, 300);
    s1 = (await one.writeChunk(s1, 0, body(fill(100, 'a')))).state;
    const s2 = (await one.writeChunk(s1, 100, body(fill(100, 'b')))).state;
    for (const writer of [one, two]) {
      await expect(
        writer.writeChunk(s1, 100, body(fill(50, 'Z')), {
          beforeCommit: () => {
            throw new Error('checksum mismatch');
          },
        }),
      ).rejects.toThrow('checksum mismatch');
    }
    const s3 = (await one.writeChunk(s2, 200, body(fill(100, 'c')))).state;
    await complete(one, s3, 300);
    expect(await final()).toEqual(Buffer.concat([fill(100, 'a'), fill(100, 'b'), fill(100, 'c')]));
  });

  it('a write in flight on the segment cannot reach the published blob (two writers, one instance)', async () => {
    const s0 = await begin(one, 200);
    const slow = new PassThrough();
    const stale = one.writeChunk(s0, 0, slow);
    slow.write(fill(50, 'Z'));
    await new Promise((r) => setTimeout(r, 30));
    // The committed writer (same instance, same offset) must not share the busy file.
    const s1 = (await one.writeChunk(s0, 0, body(fill(200, 'b')))).state;
    const published = complete(one, s1, 200);
    await published;
    slow.end(fill(150, 'Z'));
    await stale;
    expect(await final()).toEqual(fill(200, 'b'));
  });

  it('completes by copy while a write of this instance is busy on the only segment, never renaming it', async () => {
    let s1 = await begin(one, 100);
    s1 = (await one.writeChunk(s1, 0, body(fill(100, 'a')))).state;
    // A late writer on the same segment (its offset is past the total, so the engine would refuse it later).
    const late = new PassThrough();
    const pending = one.writeChunk(s1, 100, late);
    late.write(fill(10, 'Z'));
    await new Promise((r) => setTimeout(r, 30));
    await complete(one, s1, 100);
    late.end(fill(10, 'Z'));
    await pending.catch(() => undefined);
    expect(await final()).toEqual(fill(100, 'a'));
  });

  it('publishes a single own, idle segment by rename (no copy) and trims its uncommitted tail', async () => {
    let s1 = await begin(one, 100);
    s1 = (await one.writeChunk(s1, 0, body(fill(100, 'a')))).state;
    // Bytes past the committed end (a chunk whose offset never advanced) are cut at complete.
    await one.writeChunk(s1, 100, body(fill(30, 'Z')));
    const segment = await one.stagingPathOf(s1);
    const inode = (await stat(segment)).ino;
    await complete(one, s1, 100);
    expect((await stat(join(root, 'x/final.bin'))).ino).toBe(inode);
    expect(await final()).toEqual(fill(100, 'a'));
  });

  it('reads a legacy single staging file as one foreign segment [0, offset) and keeps going', async () => {
    await mkdir(join(root, '.valiblob/staging'), { recursive: true });
    // An older version wrote 120 bytes by position; only 100 were committed.
    await writeFile(join(root, '.valiblob/staging', id), Buffer.concat([fill(100, 'L'), fill(20, 'Z')]));
    const legacy = { staging: id };
    const next = (await one.writeChunk(legacy, 100, body(fill(50, 'n')))).state;
    expect(next.segments).toEqual([
      { file: '@legacy', start: 0, end: 100 },
      expect.objectContaining({ start: 100, end: 150 }),
    ]);
    await complete(one, next, 150);
    expect(await final()).toEqual(Buffer.concat([fill(100, 'L'), fill(50, 'n')]));
    // Complete removed the legacy file too.
    await expect(stat(join(root, '.valiblob/staging', id))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('completes a legacy state directly (copy, never rename of a file an old process may hold)', async () => {
    await mkdir(join(root, '.valiblob/staging'), { recursive: true });
    await writeFile(join(root, '.valiblob/staging', id), fill(80, 'L'));
    await complete(one, { staging: id }, 80);
    expect(await final()).toEqual(fill(80, 'L'));
  });

  it('abort removes the whole staging directory (every instance’s segments) and the legacy file', async () => {
    let state = await begin(one, 300);
    state = (await one.writeChunk(state, 0, body(fill(100, 'a')))).state;
    await two.writeChunk(state, 100, body(fill(100, 'b')));
    await writeFile(join(root, '.valiblob/staging', id), 'legacy');
    await one.abortUpload(state);
    await one.abortUpload(state);
    expect(await readdir(join(root, '.valiblob/staging'))).toEqual([]);
  });

  it('refuses a state that is not contiguous from 0 (never reads bytes outside committed ranges)', async () => {
    const bad = { upload: id, segments: [{ file: `${one.instanceId}-5-1`, start: 5, end: 10 }] };
    await expect(one.writeChunk(bad, 10, body(fill(1, 'x')))).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    const escape = { upload: id, segments: [{ file: '../../../etc/passwd', start: 0, end: 10 }] };
    await expect(complete(one, escape, 10)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(one.abortUpload({ upload: '../x', segments: [] })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });
});
