import { Test, TestingModule } from '@nestjs/testing';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  LocalStorageProvider,
  MemorySessionStore,
  ResumableSessionStore,
  ResumableUploadService,
  StorageProvider,
  UploadEvents,
  UploadLocker,
  UploadStatus,
  ValiBlobModule,
  ValiBlobModuleOptions,
} from '../../src';
import { parseUploadChecksum } from '../../src/uploads/upload-checksum';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const body = (data: Buffer) => Readable.from([data]);

describe('ResumableUploadService (engine semantics, DESIGN §6)', () => {
  let root: string;
  let moduleRef: TestingModule;
  let uploads: ResumableUploadService;
  let storage: LocalStorageProvider;
  let events: string[];

  async function boot(options: Partial<ValiBlobModuleOptions> = {}, store?: ResumableSessionStore): Promise<void> {
    moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { local: { root } },
          maxUploadSize: 10 * 1024 * 1024,
          ...(store ? { sessionStore: store } : {}),
          ...options,
          http: { tus: false, rest: false },
        }),
      ],
    }).compile();
    uploads = moduleRef.get(ResumableUploadService);
    storage = moduleRef.get(StorageProvider) as LocalStorageProvider;
    events = [];
    const bus = moduleRef.get(UploadEvents);
    for (const name of ['upload.started', 'upload.chunk', 'upload.completed', 'upload.aborted'] as const) {
      bus.on(name, (p) => void events.push(`${name}:${p.session.uploadId}`));
    }
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-engine-'));
    await boot();
  });

  afterEach(async () => {
    await moduleRef?.close();
    await rm(root, { recursive: true, force: true });
  });

  /** The session with its provider state, which `getSession` hands out only on request. */
  const rawSession = (uploadId: string) => uploads.getSession(uploadId, {}, { providerState: true });

  const stagingSize = async (uploadId: string) => {
    const session = await rawSession(uploadId);
    return (await stat(await storage.stagingPathOf(session.providerState ?? { staging: uploadId }))).size;
  };

  it('uploads in chunks, completes, and records the whole-file sha256', async () => {
    const data = randomBytes(300_000);
    const session = await uploads.start({ path: 'a/file.bin', totalSize: data.length, contentType: 'application/pdf' });
    for (let offset = 0; offset < data.length; offset += 100_000) {
      const chunk = data.subarray(offset, offset + 100_000);
      const result = await uploads.uploadChunk({
        uploadId: session.uploadId,
        offset,
        body: body(chunk),
        contentLength: chunk.length,
      });
      expect(result.session.uploadedBytes).toBe(offset + chunk.length);
    }
    const done = await uploads.complete(session.uploadId);
    expect(done.session.status).toBe(UploadStatus.Complete);
    expect(done.session.checksum).toBe(sha256(data));
    expect(done.blob).toMatchObject({ path: 'a/file.bin', size: data.length, contentType: 'application/pdf' });
    expect(await readFile(join(root, 'a/file.bin'))).toEqual(data);
  });

  it('answers a retried chunk at an old offset with 409 and the expected offset, never duplicating bytes', async () => {
    const data = randomBytes(2000);
    const { uploadId } = await uploads.start({ totalSize: 2000 });
    await uploads.uploadChunk({ uploadId, offset: 0, body: body(data.subarray(0, 1000)) });
    const retry = uploads.uploadChunk({ uploadId, offset: 0, body: body(data.subarray(0, 1000)) });
    await expect(retry).rejects.toMatchObject({ code: 'OFFSET_MISMATCH', status: 409, expectedOffset: 1000 });
    await expect(uploads.uploadChunk({ uploadId, offset: 1500, body: body(Buffer.alloc(10)) })).rejects.toMatchObject({
      code: 'OFFSET_MISMATCH',
      expectedOffset: 1000,
    });
    await uploads.uploadChunk({ uploadId, offset: 1000, body: body(data.subarray(1000)) });
    const done = await uploads.complete(uploadId);
    expect(done.session.checksum).toBe(sha256(data));
    expect(await readFile(join(root, done.session.path))).toEqual(data);
  });

  it('rejects a declared chunk past the total with 413 before reading it', async () => {
    const { uploadId } = await uploads.start({ totalSize: 100 });
    const stream = new PassThrough();
    await expect(uploads.uploadChunk({ uploadId, offset: 0, body: stream, contentLength: 101 })).rejects.toMatchObject({
      code: 'SIZE_EXCEEDED',
      status: 413,
    });
    expect((await uploads.getStatus(uploadId)).uploadedBytes).toBe(0);
  });

  it('rejects a streamed chunk that runs past the total with 413 and keeps none of it', async () => {
    const { uploadId } = await uploads.start({ totalSize: 100 });
    await uploads.uploadChunk({ uploadId, offset: 0, body: body(Buffer.alloc(40, 1)) });
    await expect(uploads.uploadChunk({ uploadId, offset: 40, body: body(Buffer.alloc(61, 2)) })).rejects.toMatchObject({
      code: 'SIZE_EXCEEDED',
    });
    expect((await uploads.getStatus(uploadId)).uploadedBytes).toBe(40);
    expect(await stagingSize(uploadId)).toBe(40);
  });

  it('enforces maxUploadSize on the declared size and on streamed bytes of a deferred-length upload', async () => {
    await expect(uploads.start({ totalSize: 10 * 1024 * 1024 + 1 })).rejects.toMatchObject({
      code: 'SIZE_EXCEEDED',
      status: 413,
    });
    const { uploadId } = await uploads.start({ totalSize: null });
    const tooMuch = Readable.from(
      (function* () {
        for (let i = 0; i < 11; i++) yield Buffer.alloc(1024 * 1024);
      })(),
    );
    await expect(uploads.uploadChunk({ uploadId, offset: 0, body: tooMuch })).rejects.toMatchObject({
      code: 'SIZE_EXCEEDED',
    });
    expect((await uploads.getStatus(uploadId)).uploadedBytes).toBe(0);
    // Declaring the length later (tus defer-length) fixes the total.
    await uploads.uploadChunk({ uploadId, offset: 0, body: body(Buffer.alloc(5)), declareTotalSize: 5 });
    expect(await uploads.getStatus(uploadId)).toMatchObject({ totalSize: 5, uploadedBytes: 5 });
    await expect(
      uploads.uploadChunk({ uploadId, offset: 5, body: body(Buffer.alloc(0)), declareTotalSize: 6 }),
    ).rejects.toMatchObject({
      code: 'INVALID_LENGTH',
    });
  });

  it.each(['sha1', 'sha256', 'md5', 'crc32'] as const)(
    'accepts a chunk whose %s checksum matches',
    async (algorithm) => {
      const data = randomBytes(5000);
      const digest =
        algorithm === 'crc32'
          ? (() => {
              const b = Buffer.alloc(4);
              b.writeUInt32BE(crc32(data) >>> 0);
              return b;
            })()
          : createHash(algorithm).update(data).digest();
      const checksum = parseUploadChecksum(`${algorithm} ${digest.toString('base64')}`, [
        'sha1',
        'sha256',
        'md5',
        'crc32',
      ]);
      const { uploadId } = await uploads.start({ totalSize: 5000 });
      const result = await uploads.uploadChunk({ uploadId, offset: 0, body: body(data), checksum });
      expect(result.session.uploadedBytes).toBe(5000);
    },
  );

  it('discards a chunk whose checksum does not match (460) and leaves the offset where it was', async () => {
    const { uploadId } = await uploads.start({ totalSize: 200 });
    await uploads.uploadChunk({ uploadId, offset: 0, body: body(Buffer.alloc(100, 7)) });
    const wrong = { algorithm: 'sha1' as const, digest: createHash('sha1').update('something else').digest() };
    await expect(
      uploads.uploadChunk({ uploadId, offset: 100, body: body(Buffer.alloc(100, 8)), checksum: wrong }),
    ).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      status: 460,
    });
    expect((await uploads.getStatus(uploadId)).uploadedBytes).toBe(100);
    expect(await stagingSize(uploadId)).toBe(100);
    expect(events.filter((e) => e.startsWith('upload.chunk'))).toHaveLength(1);
  });

  it('refuses unsupported or malformed checksum headers with 400', () => {
    expect(() => parseUploadChecksum('whirlpool AAAA', ['sha1'])).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_CHECKSUM_ALGORITHM', status: 400 }),
    );
    expect(() => parseUploadChecksum('sha256 AAAA', ['sha1'])).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_CHECKSUM_ALGORITHM' }),
    );
    expect(() => parseUploadChecksum('sha1 !!!', ['sha1'])).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
    expect(() => parseUploadChecksum('sha1 AAAA', ['sha1'])).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
  });

  it('answers 404 for unknown ids and for another owner’s upload', async () => {
    await expect(uploads.getStatus('nope')).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND', status: 404 });
    await expect(uploads.getStatus('../../etc')).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND' });
    const { uploadId } = await uploads.start({ totalSize: 10, owner: 'alice' });
    await expect(uploads.getStatus(uploadId, { owner: 'bob' })).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND' });
    await expect(uploads.getStatus(uploadId, { owner: null })).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND' });
    await expect(
      uploads.uploadChunk({ uploadId, offset: 0, body: body(Buffer.alloc(1)), owner: 'bob' }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(uploads.abort(uploadId, { owner: 'bob' })).rejects.toMatchObject({ status: 404 });
    expect((await uploads.getStatus(uploadId, { owner: 'alice' })).uploadId).toBe(uploadId);
  });

  it('getSession leaves providerState out unless the caller asks for it', async () => {
    const { uploadId } = await uploads.start({ totalSize: 100 });
    const session = await uploads.getSession(uploadId);
    expect(session).toMatchObject({ uploadId, uploadedBytes: 0 });
    expect('providerState' in session).toBe(false);
    expect((await rawSession(uploadId)).providerState).toEqual(expect.any(Object));
  });

  it('aborts: frees staging data, keeps a readable tombstone, answers 410 to writes', async () => {
    const { uploadId } = await uploads.start({ totalSize: 100 });
    await uploads.uploadChunk({ uploadId, offset: 0, body: body(Buffer.alloc(50)) });
    const staging = await storage.stagingPathOf((await rawSession(uploadId)).providerState!);
    const aborted = await uploads.abort(uploadId);
    expect(aborted.status).toBe(UploadStatus.Aborted);
    await expect(stat(staging)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await rawSession(uploadId)).providerState).toBeNull();
    expect((await uploads.getStatus(uploadId)).status).toBe(UploadStatus.Aborted);
    await expect(uploads.uploadChunk({ uploadId, offset: 50, body: body(Buffer.alloc(1)) })).rejects.toMatchObject({
      code: 'UPLOAD_GONE',
      status: 410,
    });
    await expect(uploads.complete(uploadId)).rejects.toMatchObject({ code: 'UPLOAD_GONE' });
    await expect(uploads.abort(uploadId)).rejects.toMatchObject({ code: 'UPLOAD_GONE' });
    expect(events.filter((e) => e.startsWith('upload.aborted'))).toHaveLength(1);
  });

  it('answers 410 for an expired upload', async () => {
    await moduleRef.close();
    await boot({ sessionExpiration: 50 });
    const { uploadId } = await uploads.start({ totalSize: 10 });
    await new Promise((r) => setTimeout(r, 80));
    await expect(uploads.uploadChunk({ uploadId, offset: 0, body: body(Buffer.alloc(1)) })).rejects.toMatchObject({
      code: 'UPLOAD_GONE',
      status: 410,
    });
    await expect(uploads.getStatus(uploadId)).rejects.toMatchObject({ code: 'UPLOAD_GONE' });
  });

  it('answers 423 when another writer holds the upload past the wait bound', async () => {
    await moduleRef.close();
    await boot({ lock: { waitMs: 100, requestRelease: false } });
    const { uploadId } = await uploads.start({ totalSize: 10 });
    const lease = await moduleRef.get(UploadLocker).acquire(uploadId, { waitMs: 0, requestRelease: false });
    const started = Date.now();
    await expect(uploads.uploadChunk({ uploadId, offset: 0, body: body(Buffer.alloc(1)) })).rejects.toMatchObject({
      code: 'UPLOAD_LOCKED',
      status: 423,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await lease.release();
    await expect(uploads.uploadChunk({ uploadId, offset: 0, body: body(Buffer.alloc(1)) })).resolves.toBeDefined();
  });

  it('lets a newer request interrupt a stalled holder, keeping what arrived', async () => {
    const { uploadId } = await uploads.start({ totalSize: 1000 });
    const slow = new PassThrough();
    const first = uploads.uploadChunk({ uploadId, offset: 0, body: slow });
    slow.write(Buffer.alloc(300, 1));
    await new Promise((r) => setTimeout(r, 50));
    // The newer request asks the holder to let go; the holder stores its 300 bytes and fails with 409.
    const second = uploads.uploadChunk({ uploadId, offset: 0, body: body(Buffer.alloc(10)) });
    await expect(first).rejects.toMatchObject({ code: 'UPLOAD_INTERRUPTED', expectedOffset: 300 });
    await expect(second).rejects.toMatchObject({ code: 'OFFSET_MISMATCH', expectedOffset: 300 });
    expect((await uploads.getStatus(uploadId)).uploadedBytes).toBe(300);
  });

  it('stops reading at once when its lock lease is lost mid-body', async () => {
    const lost = new AbortController();
    const locker: UploadLocker = {
      acquire: async () => ({ fence: Date.now() * 1000, signal: lost.signal, release: async () => undefined }),
      close: async () => undefined,
    };
    await moduleRef.close();
    await boot({ lock: { locker } });
    const { uploadId } = await uploads.start({ totalSize: 1000 });
    const slow = new PassThrough();
    const pending = uploads.uploadChunk({ uploadId, offset: 0, body: slow });
    slow.write(Buffer.alloc(100, 1));
    await new Promise((r) => setTimeout(r, 50));
    lost.abort();
    // The body is still open and would send more: the engine must not wait for it.
    await expect(pending).rejects.toMatchObject({ code: 'UPLOAD_INTERRUPTED', expectedOffset: 100 });
    slow.write(Buffer.alloc(100, 2));
    expect((await uploads.getStatus(uploadId)).uploadedBytes).toBe(100);
    expect(await stagingSize(uploadId)).toBe(100);
  });

  it('keeps the bytes of a body cut short by a disconnect, but not when a checksum was declared', async () => {
    const { uploadId } = await uploads.start({ totalSize: 1000 });
    const cut = new PassThrough();
    const pending = uploads.uploadChunk({ uploadId, offset: 0, body: cut, contentLength: 1000 });
    cut.write(Buffer.alloc(400, 3));
    await new Promise((r) => setTimeout(r, 30));
    cut.destroy(new Error('aborted'));
    const result = await pending;
    expect(result).toMatchObject({ bytesWritten: 400, endReason: 'aborted' });
    expect((await uploads.getStatus(uploadId)).uploadedBytes).toBe(400);

    const withChecksum = new PassThrough();
    const checksum = { algorithm: 'sha1' as const, digest: createHash('sha1').update(Buffer.alloc(600, 4)).digest() };
    const pending2 = uploads.uploadChunk({ uploadId, offset: 400, body: withChecksum, checksum });
    withChecksum.write(Buffer.alloc(200, 4));
    await new Promise((r) => setTimeout(r, 30));
    withChecksum.destroy(new Error('aborted'));
    await expect(pending2).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect((await uploads.getStatus(uploadId)).uploadedBytes).toBe(400);
    expect(await stagingSize(uploadId)).toBe(400);
  });

  it('ends an idle body after idleTimeoutMs and keeps what arrived', async () => {
    await moduleRef.close();
    await boot({ idleTimeoutMs: 100 });
    const { uploadId } = await uploads.start({ totalSize: 100 });
    const stalled = new PassThrough();
    const pending = uploads.uploadChunk({ uploadId, offset: 0, body: stalled });
    stalled.write(Buffer.alloc(30));
    await expect(pending).resolves.toMatchObject({ bytesWritten: 30, endReason: 'idle' });
  });

  it('maps store failures and time-outs to 503, never to "not found"', async () => {
    const failing = new MemorySessionStore();
    failing.get = async () => {
      throw new Error('ECONNREFUSED 127.0.0.1:5432');
    };
    await moduleRef.close();
    await boot({}, failing);
    await expect(uploads.getStatus('anything')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });

    const hanging = new MemorySessionStore();
    hanging.get = () => new Promise(() => undefined);
    await moduleRef.close();
    await boot({ storeTimeoutMs: 100 }, hanging);
    await expect(uploads.getStatus('anything')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
  });

  it('refuses complete before every byte (409) and returns the same result when completed twice', async () => {
    const data = randomBytes(100);
    const { uploadId } = await uploads.start({ totalSize: 100 });
    await expect(uploads.complete(uploadId)).rejects.toMatchObject({ code: 'UPLOAD_INCOMPLETE', status: 409 });
    await uploads.uploadChunk({ uploadId, offset: 0, body: body(data) });
    const [a, b] = await Promise.all([uploads.complete(uploadId), uploads.complete(uploadId)]);
    const c = await uploads.complete(uploadId);
    expect(b.session).toEqual(a.session);
    expect(c.session).toEqual(a.session);
    expect(c.blob?.size).toBe(100);
    expect((await uploads.getStatus(uploadId)).status).toBe(UploadStatus.Complete);
    await expect(uploads.abort(uploadId)).rejects.toMatchObject({ code: 'UPLOAD_COMPLETE' });
    expect(events.filter((e) => e.startsWith('upload.completed'))).toEqual([`upload.completed:${uploadId}`]);
    expect(events.filter((e) => e.startsWith('upload.started'))).toEqual([`upload.started:${uploadId}`]);
    expect(events.filter((e) => e.startsWith('upload.chunk'))).toHaveLength(1);
  });

  it('computes the whole-file sha256 by reading back when another instance wrote the chunks', async () => {
    const data = randomBytes(50_000);
    const store = new MemorySessionStore();
    await moduleRef.close();
    await boot({}, store);
    const { uploadId } = await uploads.start({ totalSize: data.length });
    await uploads.uploadChunk({ uploadId, offset: 0, body: body(data.subarray(0, 20_000)) });
    // A second instance (fresh engine, same store and storage) finishes the upload.
    const first = moduleRef;
    await boot({}, store);
    await uploads.uploadChunk({ uploadId, offset: 20_000, body: body(data.subarray(20_000)) });
    const done = await uploads.complete(uploadId);
    expect(done.session.checksum).toBe(sha256(data));
    await first.close();
  });

  it('validates start input: paths, sizes, providers, existing blobs', async () => {
    await expect(uploads.start({ totalSize: -1 })).rejects.toMatchObject({ code: 'INVALID_LENGTH', status: 400 });
    await expect(uploads.start({ totalSize: 1.5 })).rejects.toMatchObject({ code: 'INVALID_LENGTH' });
    await expect(uploads.start({ totalSize: '10' as never })).rejects.toMatchObject({ code: 'INVALID_LENGTH' });
    await expect(uploads.start({ totalSize: 1, path: '../escape' })).rejects.toMatchObject({ code: 'INVALID_PATH' });
    await expect(uploads.start({ totalSize: 1, provider: 'nope' })).rejects.toMatchObject({ code: 'UNKNOWN_PROVIDER' });
    await expect(uploads.start({ totalSize: 1, metadata: { k: 1 as never } })).rejects.toMatchObject({
      code: 'INVALID_METADATA',
    });
    const first = await uploads.start({ totalSize: 1, path: 'dup.bin' });
    await uploads.uploadChunk({ uploadId: first.uploadId, offset: 0, body: body(Buffer.from('x')) });
    await uploads.complete(first.uploadId);
    await expect(uploads.start({ totalSize: 1, path: 'dup.bin' })).rejects.toMatchObject({
      code: 'BLOB_EXISTS',
      status: 409,
    });
    await expect(uploads.start({ totalSize: 1, path: 'dup.bin', overwrite: true })).resolves.toBeDefined();
  });

  it('completes a zero-byte upload at start when asked (tus semantics)', async () => {
    const session = await uploads.start({ totalSize: 0, autoComplete: true, path: 'empty.bin' });
    expect(session.status).toBe(UploadStatus.Complete);
    expect(session.checksum).toBe(sha256(Buffer.alloc(0)));
    expect((await readFile(join(root, 'empty.bin'))).length).toBe(0);
  });
});
