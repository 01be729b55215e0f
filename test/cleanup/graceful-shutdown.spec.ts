import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  MemorySessionStore,
  MemoryUploadLocker,
  ResumableUploadService,
  ShutdownInterruptedError,
  ValiBlobModule,
  ValiBlobModuleOptions,
} from '../../src';

async function boot(root: string, store: MemorySessionStore, extra: Partial<ValiBlobModuleOptions> = {}, rest = false) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ValiBlobModule.forRoot({
        providers: { local: { root } },
        sessionStore: store,
        cleanup: { enabled: false },
        ...extra,
        http: { tus: false, rest: rest ? { path: 'uploads' } : false },
      }),
    ],
  }).compile();
  const app: INestApplication = moduleRef.createNestApplication({ logger: ['error'] });
  await app.init();
  return app;
}

/** Give streams and timers a moment to move. */
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('graceful shutdown of in-flight uploads', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-shutdown-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('app.close() stops reading an in-flight chunk and persists the bytes that arrived', async () => {
    const store = new MemorySessionStore();
    const app = await boot(root, store);
    const uploads = app.get(ResumableUploadService);
    const { uploadId } = await uploads.start({ totalSize: 1024 * 1024 });
    const body = new PassThrough();
    const pending = uploads.uploadChunk({ uploadId, offset: 0, body, contentLength: 1024 * 1024 });
    const outcome = pending.then(
      () => null,
      (error: unknown) => error,
    );
    body.write(randomBytes(100_000));
    await tick(100);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(5000);
    const error = await outcome;
    expect(error).toBeInstanceOf(ShutdownInterruptedError);
    expect((error as ShutdownInterruptedError).expectedOffset).toBe(100_000);
    expect((error as ShutdownInterruptedError).status).toBe(503);
    expect((await store.get(uploadId))?.uploadedBytes).toBe(100_000);
    body.destroy();
  });

  it('over real HTTP: a retryable 503 + Retry-After with the persisted offset, and the server closes', async () => {
    const store = new MemorySessionStore();
    const app = await boot(root, store, {}, true);
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as { port: number }).port;
    const { uploadId } = await app.get(ResumableUploadService).start({ totalSize: 500_000 });

    const response = new Promise<{ status: number; body: string; retryAfter?: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: `/uploads/${uploadId}/chunks/0`,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': 500_000 },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () =>
            resolve({ status: res.statusCode!, body: text, retryAfter: res.headers['retry-after'] as string }),
          );
        },
      );
      req.on('error', reject);
      req.write(randomBytes(64 * 1024));
    });
    await tick(150);
    await app.close();
    const { status, body, retryAfter } = await response;
    // REST clients retry 503 after Retry-After (docs/rest-api.md); 409 would read as "a newer request took over".
    expect(status).toBe(503);
    expect(retryAfter).toBe('1');
    expect(JSON.parse(body)).toMatchObject({ code: 'UPLOAD_INTERRUPTED', expectedOffset: 64 * 1024 });
    expect((await store.get(uploadId))?.uploadedBytes).toBe(64 * 1024);
  });

  it('closes the upload locker it created, and never one the app passed in', async () => {
    const close = jest.spyOn(MemoryUploadLocker.prototype, 'close');
    try {
      const own = await boot(root, new MemorySessionStore());
      await own.close();
      expect(close).toHaveBeenCalledTimes(1);
      close.mockClear();
      const appLocker = new MemoryUploadLocker();
      const withAppLocker = await boot(root, new MemorySessionStore(), { lock: { locker: appLocker } });
      await withAppLocker.close();
      expect(close).not.toHaveBeenCalled();
    } finally {
      close.mockRestore();
    }
  });
});
