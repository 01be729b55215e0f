import { S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readlink, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AzureBlobStorageProvider } from '../../src/azure';
import { NotSupportedError, StorageUnavailableError } from '../../src/errors/vali-blob.errors';
import { S3StorageProvider } from '../../src/s3';
import { LocalStorageProvider } from '../../src/storage/local/local-storage.provider';
import { MemoryStorageProvider } from '../../src/storage/memory/memory-storage.provider';
import { ResumableState, StorageProvider } from '../../src/storage/storage-provider';
import { readAll } from '../../src/testing';

const MiB = 1024 * 1024;
const body = (data: Buffer) => Readable.from([data]);
const fill = (n: number, byte: string) => Buffer.alloc(n, byte);

/** Paths of this process's open descriptors that lie under `dir` (Linux: /proc/self/fd). */
async function openFilesUnder(dir: string): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target.startsWith(dir));
}

describe('LocalStorageProvider.readStaged', () => {
  let root: string;
  let one: LocalStorageProvider;
  let two: LocalStorageProvider;
  let id: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-read-staged-'));
    one = new LocalStorageProvider({ root });
    two = new LocalStorageProvider({ root });
    id = `rs_${randomBytes(6).toString('hex')}`;
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const begin = (p: StorageProvider, totalSize: number) =>
    p.beginUpload({ uploadId: id, path: 'x/final.bin', totalSize, contentType: null, metadata: {} });
  const partsDir = () => join(root, '.valiblob/staging', `${id}.parts`);

  it('reads across segments of several instances, only their committed ranges, and changes no file', async () => {
    let state = await begin(one, 300);
    const s1 = (await one.writeChunk(state, 0, body(fill(100, 'a')))).state;
    // A stale write of the same instance appends 50 uncommitted bytes to the first segment.
    await one.writeChunk(s1, 100, body(fill(50, 'Z')));
    state = (await two.writeChunk(s1, 100, body(fill(100, 'b')))).state;
    state = (await one.writeChunk(state, 200, body(fill(100, 'c')))).state;
    const sizes = async () =>
      Promise.all((await readdir(partsDir())).sort().map(async (f) => (await stat(join(partsDir(), f))).size));
    const before = await sizes();
    expect(before).toHaveLength(3);

    const expected = Buffer.concat([fill(100, 'a'), fill(100, 'b'), fill(100, 'c')]);
    expect(await readAll(await one.readStaged(state, 300))).toEqual(expected);
    expect(await readAll(await two.readStaged(state, 300))).toEqual(expected);
    expect(await sizes()).toEqual(before);
    await one.completeUpload(state, {
      uploadId: id,
      path: 'x/final.bin',
      totalSize: 300,
      contentType: null,
      metadata: {},
    });
    expect(await readAll((await one.get('x/final.bin')).stream)).toEqual(expected);
  });

  it('holds at most one descriptor while reading and none once an early-destroyed stream has closed', async () => {
    const data = randomBytes(3 * MiB + 17);
    let state = await begin(one, data.length);
    state = (await one.writeChunk(state, 0, body(data.subarray(0, 2 * MiB)))).state;
    state = (await two.writeChunk(state, 2 * MiB, body(data.subarray(2 * MiB)))).state;

    const untouched = await one.readStaged(state, data.length);
    // Never read: nothing was opened.
    expect(await openFilesUnder(root)).toEqual([]);
    untouched.destroy();

    const stream = await one.readStaged(state, data.length);
    const chunks: Buffer[] = [];
    let mostOpen = 0;
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      mostOpen = Math.max(mostOpen, (await openFilesUnder(root)).length);
    }
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(mostOpen).toBe(1);
    expect(await openFilesUnder(root)).toEqual([]);

    const early = await one.readStaged(state, data.length);
    await once(early, 'readable');
    expect(await openFilesUnder(root)).toHaveLength(1);
    early.destroy();
    await once(early, 'close');
    expect(await openFilesUnder(root)).toEqual([]);
  });

  it('refuses a staged file shorter than its committed range, before and while streaming', async () => {
    let state = await begin(one, 2 * MiB);
    state = (await one.writeChunk(state, 0, body(randomBytes(MiB)))).state;
    state = (await two.writeChunk(state, MiB, body(randomBytes(MiB)))).state;
    const files = await readdir(partsDir());
    const firstSegment = files.find((f) => f.startsWith(`${one.instanceId}-0-`))!;
    const secondSegment = files.find((f) => f.startsWith(`${two.instanceId}-${MiB}-`))!;

    await truncate(join(partsDir(), secondSegment), MiB - 1);
    await expect(one.readStaged(state, 2 * MiB)).rejects.toBeInstanceOf(StorageUnavailableError);

    await truncate(join(partsDir(), secondSegment), MiB);
    const stream = await one.readStaged(state, 2 * MiB);
    // Cut after the check: the stream fails instead of ending early with fewer bytes.
    await truncate(join(partsDir(), firstSegment), 1000);
    await expect(readAll(stream)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    if (!stream.closed) await once(stream, 'close');
    expect(await openFilesUnder(root)).toEqual([]);
  });

  it('refuses a size its state does not cover, and staging that is gone', async () => {
    let state = await begin(one, 200);
    state = (await one.writeChunk(state, 0, body(fill(100, 'a')))).state;
    await expect(one.readStaged(state, 200)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(one.readStaged(state, 50)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await one.abortUpload(state);
    await expect(one.readStaged(state, 100)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });

  it('reads an empty upload as an empty stream, and refuses it once aborted', async () => {
    const state = await begin(one, 0);
    expect(await readAll(await one.readStaged(state, 0))).toEqual(Buffer.alloc(0));
    await one.abortUpload(state);
    await expect(one.readStaged(state, 0)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });

  it("reads an older version's single staging file", async () => {
    const data = randomBytes(5000);
    await mkdir(join(root, '.valiblob/staging'), { recursive: true });
    // The legacy file may hold bytes past the committed offset; only [0, totalSize) is read.
    await writeFile(join(root, '.valiblob/staging', id), Buffer.concat([data, fill(10, 'Z')]));
    expect(await readAll(await one.readStaged({ staging: id }, data.length))).toEqual(data);
  });
});

describe('MemoryStorageProvider.readStaged', () => {
  it('streams copies of the committed bytes taken at the call, and refuses what it does not hold', async () => {
    const provider = new MemoryStorageProvider();
    const request = { uploadId: 'mem1', path: 'm/final.bin', totalSize: 6, contentType: null, metadata: {} };
    let state: ResumableState = await provider.beginUpload(request);
    await expect(provider.readStaged(state, 6)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    state = (await provider.writeChunk(state, 0, body(Buffer.from('abc')))).state;
    state = (await provider.writeChunk(state, 3, body(Buffer.from('def')))).state;

    const first = await provider.readStaged(state, 6);
    for await (const chunk of await provider.readStaged(state, 6)) (chunk as Buffer).fill(0x21);
    await provider.abortUpload(state);
    // Taken before the abort, and not changed by a consumer writing into its own chunks.
    expect((await readAll(first)).toString()).toBe('abcdef');
    await expect(provider.readStaged(state, 6)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });
});

describe('canReadStaged of the delegating providers', () => {
  it('is true where the resumable half can read (local, memory) and false with NOT_SUPPORTED elsewhere', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vb-read-staged-flag-'));
    try {
      expect(new LocalStorageProvider({ root }).canReadStaged).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
    expect(new MemoryStorageProvider().canReadStaged).toBe(true);
    // Constructed only: neither touches the network before an operation needs it.
    const s3 = new S3StorageProvider({ bucket: 'b', client: new S3Client({ region: 'us-east-1' }) });
    const azure = new AzureBlobStorageProvider({
      connectionString: 'UseDevelopmentStorage=true',
      containerName: 'c',
    });
    for (const provider of [s3, azure]) {
      expect(provider.canReadStaged).toBe(false);
      await expect(provider.readStaged({ upload: 'x' }, 1)).rejects.toBeInstanceOf(NotSupportedError);
    }
    s3.client.destroy();
  });
});
