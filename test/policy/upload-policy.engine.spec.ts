import { ForbiddenException } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  ResumableSessionStore,
  ResumableUploadService,
  StorageProvider,
  UploadEvents,
  UploadQuotaService,
  UploadRejectedError,
  UploadStatus,
  ValiBlobModule,
  VirusScanner,
} from '../../src';
import type { UploadPolicyOptions } from '../../src';
import { POLICY_BACKENDS } from './policy-backends';
import { filesUnder, pdfBytes, pngBytes } from './policy-fixtures';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A scanner that reads the whole stream and finds "VIRUS" in it (the ClamAV adapter has its own suite). */
class MarkerScanner extends VirusScanner {
  scanned: Buffer[] = [];
  down = false;
  async scan(stream: Readable) {
    if (this.down) throw new Error('connect ECONNREFUSED');
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const all = Buffer.concat(chunks);
    this.scanned.push(all);
    return all.includes('VIRUS') ? { clean: false, signature: 'Test-Marker' } : { clean: true };
  }
  async ping() {}
}

describe.each(POLICY_BACKENDS)('upload policy in the engine (service API) on $name', (backend) => {
  let root: string;
  let moduleRef: TestingModule | undefined;
  let uploads: ResumableUploadService;
  let storage: StorageProvider;
  let store: ResumableSessionStore;
  let closeStore: () => Promise<void>;
  let available = true;
  const rejected: string[] = [];

  async function boot(policy: UploadPolicyOptions, owner?: string): Promise<void> {
    const opened = await backend.open();
    if (!opened) {
      available = false;
      return;
    }
    ({ store, close: closeStore } = opened);
    root = mkdtempSync(join(tmpdir(), 'valiblob-policy-'));
    moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { local: { root } },
          sessionStore: store,
          policy,
          http: { tus: false, rest: false },
          ...(owner ? {} : {}),
        }),
      ],
    }).compile();
    await moduleRef.init();
    uploads = moduleRef.get(ResumableUploadService);
    storage = moduleRef.get(StorageProvider);
    moduleRef.get(UploadEvents).on('upload.rejected', (p) => void rejected.push(p.rejection.code));
  }

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
    if (available) await closeStore?.();
    if (root) await rm(root, { recursive: true, force: true });
    rejected.length = 0;
  });

  async function upload(data: Buffer, input: { path: string; contentType?: string; owner?: string }, chunk = 0) {
    const session = await uploads.start({ ...input, totalSize: data.length });
    const size = chunk || data.length;
    for (let offset = 0; offset < data.length; offset += size) {
      const part = data.subarray(offset, offset + size);
      await uploads.uploadChunk({
        uploadId: session.uploadId,
        offset,
        body: Readable.from([part]),
        contentLength: part.length,
        owner: input.owner,
      });
    }
    return { session, result: await uploads.complete(session.uploadId, { owner: input.owner }) };
  }

  it('onCreate may reject (status, code, message) before any session exists', async () => {
    await boot({
      hooks: {
        onCreate: (ctx) => {
          if (ctx.path.startsWith('private/'))
            throw new UploadRejectedError('No private uploads', { status: 403, code: 'NO_PRIVATE' });
        },
      },
    });
    if (!available) return;
    const error = await uploads.start({ path: 'private/a.txt', totalSize: 3, owner: 'alice' }).catch((e) => e);
    expect(error).toMatchObject({ status: 403, code: 'NO_PRIVATE', message: 'No private uploads' });
    expect((await store.find({ ownerId: 'alice' })).items).toEqual([]);
    expect(await filesUnder(root)).toEqual([]);
  });

  it('onCreate rewrites path/metadata; HttpException = rejection; a crash = POLICY_FAILED', async () => {
    await boot({
      hooks: {
        onCreate: (ctx) => {
          if (ctx.metadata.kind === 'forbidden') throw new ForbiddenException({ code: 'KIND', message: 'Bad kind' });
          if (ctx.metadata.kind === 'crash') throw new Error('bug in the hook');
          return { path: `tenant/${ctx.path}`, metadata: { ...ctx.metadata, stamped: 'yes' } };
        },
      },
    });
    if (!available) return;
    const { result } = await upload(Buffer.from('hello'), { path: 'a.txt' });
    expect(result.session.path).toBe('tenant/a.txt');
    expect(result.session.metadata).toEqual({ stamped: 'yes' });
    expect((await storage.get('tenant/a.txt')).info.size).toBe(5);
    const forbidden = await uploads.start({ path: 'b', totalSize: 1, metadata: { kind: 'forbidden' } }).catch((e) => e);
    expect(forbidden).toMatchObject({ status: 403, code: 'KIND', message: 'Bad kind' });
    const crash = await uploads.start({ path: 'b', totalSize: 1, metadata: { kind: 'crash' } }).catch((e) => e);
    expect(crash).toMatchObject({ status: 500, code: 'POLICY_FAILED' });
    expect(crash.message).not.toContain('bug in the hook');
  });

  it('a hook past hookTimeoutMs answers 503 POLICY_TIMEOUT', async () => {
    await boot({ hookTimeoutMs: 50, hooks: { onCreate: () => new Promise<void>((r) => setTimeout(r, 2000)) } });
    if (!available) return;
    const error = await uploads.start({ path: 'slow', totalSize: 1 }).catch((e) => e);
    expect(error).toMatchObject({ status: 503, code: 'POLICY_TIMEOUT' });
  });

  it('validation: extensions (double, case, trailing dot), content types with wildcards, size per owner', async () => {
    await boot({
      validation: {
        blockedExtensions: ['exe'],
        allowedContentTypes: ['image/*', 'application/pdf'],
        maxUploadSize: (s) => (s.owner === 'small' ? 10 : null),
      },
    });
    if (!available) return;
    for (const path of ['x/invoice.exe.pdf', 'x/RUN.EXE', 'x/evil.exe.']) {
      const error = await uploads.start({ path, totalSize: 1, contentType: 'application/pdf' }).catch((e) => e);
      expect(error).toMatchObject({ code: 'EXTENSION_NOT_ALLOWED', status: 400 });
    }
    const text = await uploads.start({ path: 'x/a.txt', totalSize: 1, contentType: 'text/plain' }).catch((e) => e);
    expect(text).toMatchObject({ code: 'TYPE_NOT_ALLOWED', status: 415 });
    const none = await uploads.start({ path: 'x/a.bin', totalSize: 1 }).catch((e) => e);
    expect(none).toMatchObject({ code: 'TYPE_NOT_ALLOWED' });
    await expect(uploads.start({ path: 'x/a.png', totalSize: 1, contentType: 'IMAGE/PNG' })).resolves.toBeDefined();
    const big = await uploads
      .start({ path: 'x/b.png', totalSize: 11, contentType: 'image/png', owner: 'small' })
      .catch((e) => e);
    expect(big).toMatchObject({ code: 'SIZE_EXCEEDED', status: 413 });
    await expect(uploads.start({ path: 'x/c.png', totalSize: 11, contentType: 'image/png' })).resolves.toBeDefined();
  });

  it('sniff + enforce: a PDF declared image/png is refused at its first bytes, nothing left', async () => {
    await boot({ contentType: { sniff: true, enforce: true } });
    if (!available) return;
    const data = pdfBytes(64 * 1024);
    const session = await uploads.start({ path: 'x/fake.png', totalSize: data.length, contentType: 'image/png' });
    const write = (offset: number) =>
      uploads.uploadChunk({
        uploadId: session.uploadId,
        offset,
        body: Readable.from([data]),
        contentLength: data.length,
      });
    const error = await write(0).catch((e) => e);
    expect(error).toMatchObject({ status: 415, code: 'TYPE_MISMATCH' });
    const status = await uploads.getStatus(session.uploadId);
    expect(status).toMatchObject({ status: UploadStatus.Rejected, uploadedBytes: 0 });
    expect(status.rejection).toMatchObject({ status: 415, code: 'TYPE_MISMATCH' });
    expect(rejected).toEqual(['TYPE_MISMATCH']);
    expect(await filesUnder(root)).toEqual([]);
    // A retry gets the same answer; complete and abort do not resurrect it.
    expect(await write(0).catch((e) => e)).toMatchObject({ status: 415, code: 'TYPE_MISMATCH' });
    expect(await uploads.complete(session.uploadId).catch((e) => e)).toMatchObject({ code: 'TYPE_MISMATCH' });
    expect(await uploads.abort(session.uploadId).catch((e) => e)).toMatchObject({ code: 'UPLOAD_GONE' });
    expect(await storage.exists('x/fake.png')).toBe(false);
  });

  it('sniff stores the detected type; tiny chunks are judged once the 4 KiB window is complete', async () => {
    await boot({ contentType: { sniff: true, enforce: true }, validation: { allowedContentTypes: ['image/*'] } });
    if (!available) return;
    const png = pngBytes(10_000);
    const { result } = await upload(png, { path: 'x/pic', contentType: 'application/octet-stream' }, 1000);
    expect(result.session.contentType).toBe('image/png');
    expect((await storage.stat('x/pic'))?.contentType).toBe('image/png');

    const pdf = pdfBytes(10_000);
    const session = await uploads.start({ path: 'x/doc', totalSize: pdf.length });
    let offset = 0;
    for (; offset < 4000; offset += 1000) {
      const part = pdf.subarray(offset, offset + 1000);
      await uploads.uploadChunk({
        uploadId: session.uploadId,
        offset,
        body: Readable.from([part]),
        contentLength: 1000,
      });
    }
    expect((await uploads.getStatus(session.uploadId)).metadata).toEqual({});
    const part = pdf.subarray(offset, offset + 1000);
    const error = await uploads
      .uploadChunk({ uploadId: session.uploadId, offset, body: Readable.from([part]), contentLength: 1000 })
      .catch((e) => e);
    expect(error).toMatchObject({ status: 415, code: 'TYPE_NOT_ALLOWED' });
    expect(await uploads.getStatus(session.uploadId)).toMatchObject({ status: 'Rejected', uploadedBytes: 4000 });
    // The accepted upload's blob and its metadata sidecar only: no staging of the rejected one.
    expect((await filesUnder(root)).filter((f) => f !== 'x/pic' && !f.startsWith('.valiblob/meta/'))).toEqual([]);
  });

  it('onFirstBytes sees the window (or the whole small upload) and its rejection discards the chunk', async () => {
    const heads: number[] = [];
    await boot({
      hooks: {
        onFirstBytes: ({ head }) => {
          heads.push(head.length);
          if (head.includes('MZ')) throw new UploadRejectedError('No executables', { code: 'NO_EXE' });
        },
      },
    });
    if (!available) return;
    await upload(Buffer.alloc(100_000, 'a'), { path: 'x/big.txt' });
    await upload(Buffer.from('small'), { path: 'x/small.txt' });
    expect(heads).toEqual([4096, 5]);
    const error = await upload(Buffer.from('MZ....'), { path: 'x/prog' }).catch((e) => e);
    expect(error).toMatchObject({ status: 422, code: 'NO_EXE' });
    expect(await storage.exists('x/prog')).toBe(false);
  });

  it('beforePublish gets sha256 + the staged upload; its rejection: the blob never appears', async () => {
    const seen: Array<{ sha256: string; bytes: Buffer }> = [];
    await boot({
      hooks: {
        beforePublish: async ({ sha256: digest, open, session }) => {
          const chunks: Buffer[] = [];
          for await (const chunk of await open()) chunks.push(chunk as Buffer);
          seen.push({ sha256: digest, bytes: Buffer.concat(chunks) });
          if (session.metadata.verdict === 'no')
            throw new UploadRejectedError('Not approved', { code: 'NOT_APPROVED' });
        },
      },
    });
    if (!available) return;
    const data = Buffer.alloc(300_000, 7);
    const { result } = await upload(data, { path: 'x/ok.bin' }, 100_000);
    expect(seen[0]).toEqual({ sha256: sha256(data), bytes: data });
    expect(result.session.checksum).toBe(sha256(data));

    const session = await uploads.start({ path: 'x/no.bin', totalSize: 3, metadata: { verdict: 'no' } });
    await uploads.uploadChunk({ uploadId: session.uploadId, offset: 0, body: Readable.from([Buffer.from('abc')]) });
    const error = await uploads.complete(session.uploadId).catch((e) => e);
    expect(error).toMatchObject({ status: 422, code: 'NOT_APPROVED', message: 'Not approved' });
    expect(await storage.exists('x/no.bin')).toBe(false);
    expect(await uploads.getStatus(session.uploadId)).toMatchObject({
      status: 'Rejected',
      rejection: { code: 'NOT_APPROVED' },
    });
    expect((await filesUnder(root)).filter((f) => !f.startsWith('.valiblob/meta/'))).toEqual(['x/ok.bin']);
  });

  it('scanner: malware is rejected (VIRUS_FOUND), a scanner that is down fails closed and can be retried', async () => {
    const scanner = new MarkerScanner();
    await boot({ scan: { scanner } });
    if (!available) return;
    const infected = await upload(Buffer.from('xx VIRUS xx'), { path: 'x/bad.txt' }).catch((e) => e);
    expect(infected).toMatchObject({ status: 422, code: 'VIRUS_FOUND' });
    expect(await storage.exists('x/bad.txt')).toBe(false);

    scanner.down = true;
    const data = Buffer.from('clean bytes');
    const session = await uploads.start({ path: 'x/good.txt', totalSize: data.length });
    await uploads.uploadChunk({ uploadId: session.uploadId, offset: 0, body: Readable.from([data]) });
    expect(await uploads.complete(session.uploadId).catch((e) => e)).toMatchObject({
      status: 503,
      code: 'SCANNER_UNAVAILABLE',
    });
    expect(await storage.exists('x/good.txt')).toBe(false);
    expect((await uploads.getStatus(session.uploadId)).status).toBe('InProgress');
    scanner.down = false;
    expect((await uploads.complete(session.uploadId)).session.status).toBe('Complete');
    expect(scanner.scanned.at(-1)).toEqual(data);
  });

  it('quota: reserve at create (413 before bytes), commit at complete, release on abort/reject', async () => {
    await boot({
      quota: { maxBytes: 1000 },
      hooks: {
        beforePublish: ({ session }) => {
          if (session.path.endsWith('.no')) throw new UploadRejectedError('no');
        },
      },
    });
    if (!available) return;
    const quota = moduleRef!.get(UploadQuotaService);
    await upload(Buffer.alloc(600), { path: 'q/a', owner: 'alice' });
    expect(await quota.usage('alice')).toMatchObject({ usedBytes: 600, reservedBytes: 0 });
    const over = await uploads.start({ path: 'q/b', totalSize: 401, owner: 'alice' }).catch((e) => e);
    expect(over).toMatchObject({ status: 413, code: 'QUOTA_EXCEEDED' });
    // Another owner has their own quota.
    await expect(uploads.start({ path: 'q/c', totalSize: 1000, owner: 'bob' })).resolves.toBeDefined();

    const held = await uploads.start({ path: 'q/d', totalSize: 400, owner: 'alice' });
    expect(await quota.usage('alice')).toMatchObject({ usedBytes: 600, reservedBytes: 400 });
    await uploads.abort(held.uploadId, { owner: 'alice' });
    expect(await quota.usage('alice')).toMatchObject({ usedBytes: 600, reservedBytes: 0 });

    const refused = await upload(Buffer.alloc(300), { path: 'q/e.no', owner: 'alice' }).catch((e) => e);
    expect(refused).toMatchObject({ code: 'UPLOAD_REJECTED' });
    expect(await quota.usage('alice')).toMatchObject({ usedBytes: 600, reservedBytes: 0 });

    // Deleting the blob through the library gives the bytes back.
    const done = await upload(Buffer.alloc(400), { path: 'q/f', owner: 'alice' });
    expect(await quota.usage('alice')).toMatchObject({ usedBytes: 1000 });
    await uploads.abort(done.session.uploadId, { owner: 'alice', allowFinished: true });
    expect(await quota.usage('alice')).toMatchObject({ usedBytes: 600, reservedBytes: 0 });
  });
});
