import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload } from 'tus-js-client';
import { httpRequest } from '../support/http-client';
import { ServerProcess, startServer } from '../support/server-process';
import { startThrottledProxy, ThrottledProxy } from './throttled-proxy';
import { sha256, testBytes } from './tus-http';

const MiB = 1024 * 1024;
const SIZE = 6 * MiB;
/** Client → server speed through the proxy: the single PATCH takes ~3 s, long enough to SIGTERM mid-body. */
const RATE = 2 * MiB;

/**
 * A rolling restart as an orchestrator does it: SIGTERM the runnable server (enableShutdownHooks) while a
 * tus-js-client PATCH is mid-body, start it again on the same port, storage and SQLite database, and the SAME
 * `tus.Upload` object finishes on its own. That works only if shutdown answers with a status tus clients retry
 * (503 + Retry-After; a 400 would end the upload with onError) after persisting the bytes that arrived.
 */
describe('tus rolling restart (real server process, SIGTERM mid-chunk, tus-js-client)', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  let proxy: ThrottledProxy | undefined;
  let upload: Upload | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vb-rolling-'));
  });
  afterAll(async () => {
    await upload?.abort().catch(() => undefined);
    await proxy?.close();
    await server?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('the same Upload object resumes after the restart and the blob is byte-exact', async () => {
    const env = { STORAGE_DIR: join(dir, 'blobs'), DATABASE_URL: `sqlite:${join(dir, 'sessions.sqlite')}` };
    server = await startServer(env);
    const port = server.port;
    proxy = await startThrottledProxy(port, RATE);
    const data = testBytes(SIZE, 77);
    const responses: Array<{ method: string; status: number; retryAfter?: string }> = [];
    let sent = 0;

    upload = new Upload(data, {
      endpoint: `${proxy.origin}/files`,
      metadata: { filename: 'rolling.bin', filetype: 'application/octet-stream' },
      // Enough retries to span a restart of the server (a few seconds on a busy machine).
      retryDelays: [500, 1000, 1000, 2000, 2000, 3000, 3000, 5000, 5000, 5000, 5000, 5000, 5000],
      onProgress: (bytes) => (sent = bytes),
      onAfterResponse: (req, res) => {
        responses.push({ method: req.getMethod(), status: res.getStatus(), retryAfter: res.getHeader('Retry-After') });
      },
    });
    const finished = new Promise<void>((resolve, reject) => {
      upload!.options.onSuccess = () => resolve();
      upload!.options.onError = reject;
    });
    // A failed assertion below must not leave this promise rejected and unobserved.
    finished.catch(() => undefined);
    upload.start();

    // Mid-body: part of the chunk arrived, most of it has not.
    const deadline = Date.now() + 30_000;
    while (sent < 1.5 * MiB && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sent).toBeGreaterThanOrEqual(1.5 * MiB);
    expect(sent).toBeLessThan(SIZE);
    await server.stop();
    expect(server.output()).not.toMatch(/ERROR/);
    server = await startServer({ ...env, PORT: String(port) });
    expect(server.port).toBe(port);

    await finished;
    // The interrupted PATCH got the retryable answer (not 400), with Retry-After.
    expect(responses).toContainEqual({ method: 'PATCH', status: 503, retryAfter: '1' });
    expect(responses.some((r) => r.status === 400)).toBe(false);

    const id = upload!.url!.split('/').pop()!;
    const session = await httpRequest(`${server.url}/uploads/${id}`);
    expect(session.json).toMatchObject({ status: 'Complete', uploadedBytes: SIZE, checksum: sha256(data) });
    const stored = await readFile(join(dir, 'blobs', session.json.path));
    expect(sha256(stored)).toBe(sha256(data));
  }, 180_000);
});
