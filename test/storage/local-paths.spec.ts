import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalStorageProvider } from '../../src/storage/local/local-storage.provider';

const body = (data: string | Buffer) => Readable.from([Buffer.from(data)]);
/** A segment of exactly 255 UTF-8 bytes (85 three-byte characters). */
const LONGEST_SEGMENT = '界'.repeat(85);

async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

describe('LocalStorageProvider: names, sidecars and reads never turn a client mistake into a 5xx', () => {
  let root: string;
  let provider: LocalStorageProvider;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-local-paths-'));
    provider = new LocalStorageProvider({ root });
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const put = (path: string, data = 'x', metadata?: Record<string, string>) =>
    provider.put(path, body(data), { contentType: 'text/plain', metadata });

  async function resumable(path: string, data: string, overwrite?: boolean, uploadId = `u${Date.now()}`) {
    const begin = { uploadId, path, totalSize: data.length, contentType: 'text/plain', metadata: {} };
    let state = await provider.beginUpload(begin);
    state = (await provider.writeChunk(state, 0, body(data))).state;
    const request = { ...begin, metadata: { k: 'v' }, overwrite };
    return { state, complete: (to = path) => provider.completeUpload(state, { ...request, path: to }) };
  }

  describe('sidecars', () => {
    it('stores metadata of a 255-byte segment (the sidecar adds no bytes to the user’s name)', async () => {
      await put(`a/${LONGEST_SEGMENT}`, 'data', { k: 'v' });
      const info = await provider.stat(`a/${LONGEST_SEGMENT}`);
      expect(info).toMatchObject({ size: 4, contentType: 'text/plain', metadata: { k: 'v' } });
      const sidecar = await provider.sidecarPathOf(`a/${LONGEST_SEGMENT}`);
      expect(sidecar).toMatch(/\.valiblob\/meta\/[0-9a-f]{2}\/[0-9a-f]{64}\.json$/);
    });

    it('keeps `x` and `x.json/y` apart (they shared one sidecar location before)', async () => {
      await put('x', 'one', { which: 'x' });
      await put('x.json/y', 'two', { which: 'y' });
      expect(await provider.stat('x')).toMatchObject({ metadata: { which: 'x' } });
      expect(await provider.stat('x.json/y')).toMatchObject({ metadata: { which: 'y' } });
      await provider.delete('x');
      expect(await provider.stat('x.json/y')).toMatchObject({ metadata: { which: 'y' } });
    });

    it('reads a sidecar from the legacy location and drops it when the metadata is rewritten', async () => {
      await put('old/blob.bin', 'data');
      const legacy = join(root, '.valiblob/meta/old/blob.bin.json');
      await mkdir(join(root, '.valiblob/meta/old'), { recursive: true });
      await writeFile(legacy, JSON.stringify({ contentType: 'image/png', metadata: { from: 'legacy' } }));
      await rm(await provider.sidecarPathOf('old/blob.bin'), { force: true });
      const legacyInfo = await provider.stat('old/blob.bin');
      expect(legacyInfo).toMatchObject({ contentType: 'image/png', metadata: { from: 'legacy' } });
      await provider.put('old/blob.bin', body('new'), {});
      expect(await provider.stat('old/blob.bin')).toMatchObject({ contentType: null, metadata: {} });
      await expect(readFile(legacy)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  describe('assertCreatable and publishing', () => {
    it('refuses a path below a blob or naming a folder with PATH_CONFLICT; accepts a fresh path', async () => {
      await put('file.bin');
      await put('folder/inner.bin');
      const conflict = { code: 'PATH_CONFLICT', status: 409 };
      await expect(provider.assertCreatable('file.bin/child')).rejects.toMatchObject(conflict);
      await expect(provider.assertCreatable('file.bin/a/b')).rejects.toMatchObject({ code: 'PATH_CONFLICT' });
      await expect(provider.assertCreatable('folder')).rejects.toMatchObject({ code: 'PATH_CONFLICT' });
      await expect(provider.assertCreatable('folder/new.bin')).resolves.toBeUndefined();
      await expect(provider.assertCreatable('file.bin')).resolves.toBeUndefined();
      await expect(provider.assertCreatable(`n/${LONGEST_SEGMENT}/x`)).resolves.toBeUndefined();
      const tooLong = provider.assertCreatable(`n/${LONGEST_SEGMENT}界`);
      await expect(tooLong).rejects.toMatchObject({ code: 'INVALID_PATH', status: 400 });
    });

    it('maps races at complete to 4xx: a parent that became a file, a path that became a folder', async () => {
      const underFile = await resumable('late/child.bin', 'data');
      await put('late');
      await expect(underFile.complete()).rejects.toMatchObject({ code: 'PATH_CONFLICT', status: 409 });
      const overFolder = await resumable('dir', 'data', undefined, 'u2');
      await put('dir/inside.bin');
      await expect(overFolder.complete()).rejects.toMatchObject({ code: 'PATH_CONFLICT', status: 409 });
      // Staged data is kept: the upload can still publish elsewhere.
      await overFolder.complete('elsewhere.bin');
      expect(await readFile(join(root, 'elsewhere.bin'), 'utf8')).toBe('data');
    });

    it('overwrite:false publishes with link: BLOB_EXISTS over a blob (kept intact), staged data kept', async () => {
      await put('taken.bin', 'original', { owner: 'first' });
      const upload = await resumable('taken.bin', 'second', false);
      await expect(upload.complete()).rejects.toMatchObject({ code: 'BLOB_EXISTS', status: 409 });
      expect(await readFile(join(root, 'taken.bin'), 'utf8')).toBe('original');
      expect(await provider.stat('taken.bin')).toMatchObject({ metadata: { owner: 'first' } });
      const info = await upload.complete('taken-1.bin');
      expect(info).toMatchObject({ path: 'taken-1.bin', size: 6, metadata: { k: 'v' } });
      expect(await readFile(join(root, 'taken-1.bin'), 'utf8')).toBe('second');
      // Idempotent: completing again finds the published blob.
      await expect(upload.complete('taken-1.bin')).resolves.toMatchObject({ size: 6 });
    });

    it('of two uploads to one new path with overwrite:false, exactly one publishes', async () => {
      const first = await resumable('race.bin', 'first', false, 'r1');
      const second = await resumable('race.bin', 'other', false, 'r2');
      const results = await Promise.allSettled([first.complete(), second.complete()]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'BLOB_EXISTS' } });
      expect(['first', 'other']).toContain(await readFile(join(root, 'race.bin'), 'utf8'));
    });

    it('overwrite true (or absent) replaces an existing blob', async () => {
      await put('replace.bin', 'old');
      await (await resumable('replace.bin', 'newer', true)).complete();
      expect(await readFile(join(root, 'replace.bin'), 'utf8')).toBe('newer');
    });
  });

  describe('reads', () => {
    it('answers 404 for a path that runs through a file and 400 for an over-long segment', async () => {
      await put('plain.bin');
      await expect(provider.get('plain.bin/x')).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND', status: 404 });
      expect(await provider.stat('plain.bin/x')).toBeNull();
      expect(await provider.exists('plain.bin/x/y')).toBe(false);
      await expect(provider.get(`a/${'x'.repeat(300)}`)).rejects.toMatchObject({ code: 'INVALID_PATH', status: 400 });
      await expect(provider.stat(`a/${'x'.repeat(300)}`)).rejects.toMatchObject({ code: 'INVALID_PATH' });
    });

    it('leaves no descriptor open after 100 failing reads', async () => {
      await put('plain.bin', 'abc');
      await put('folder/inner.bin');
      const failing: Array<() => Promise<unknown>> = [
        () => provider.get('plain.bin/x'),
        () => provider.get('missing.bin'),
        () => provider.get('folder'),
        () => provider.get('plain.bin', { start: 10 }),
        () => provider.get(`a/${'x'.repeat(300)}`),
      ];
      // Warm up (lazy module loads, the root's realpath) before counting.
      for (const attempt of failing) await attempt().catch(() => undefined);
      const before = await openDescriptors();
      for (let i = 0; i < 100; i++) await expect(failing[i % failing.length]()).rejects.toBeDefined();
      await new Promise((r) => setImmediate(r));
      expect(await openDescriptors()).toBe(before);
    });

    it('serves a range from the descriptor it checked, and closes it when the stream ends', async () => {
      await put('r.bin', '0123456789');
      const before = await openDescriptors();
      const read = await provider.get('r.bin', { start: 2, end: 4 });
      expect(read.range).toEqual({ start: 2, end: 4 });
      const chunks: Buffer[] = [];
      for await (const chunk of read.stream) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('234');
      await new Promise((r) => setTimeout(r, 20));
      expect(await openDescriptors()).toBe(before);
    });
  });
});
