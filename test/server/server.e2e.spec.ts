import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest } from '../support/http-client';
import { ServerProcess, startServer } from '../support/server-process';

const MiB = 1024 * 1024;

/** The runnable server exactly as `npm start` runs it, driven over real sockets. */
describe('runnable server (npm start)', () => {
  let dataDir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vb-server-'));
    server = await startServer({
      STORAGE_DIR: join(dataDir, 'blobs'),
      DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
    });
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers /health with 200 and serves the demo page', async () => {
    const health = await httpRequest(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('ok');
    const page = await httpRequest(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(String(page.headers['content-type'])).toContain('text/html');
  });

  it('takes a 50 MiB file in 5 MiB chunks, one chunk retried, byte-exact', async () => {
    const data = randomBytes(50 * MiB);
    const expected = createHash('sha256').update(data).digest('hex');
    const created = await httpRequest(`${server.url}/uploads`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ totalSize: data.length, path: 'e2e/fifty.bin', contentType: 'application/octet-stream' }),
    });
    expect(created.status).toBe(201);
    const id = created.json.uploadId as string;
    const chunkSize = 5 * MiB;
    let retried = false;
    for (let offset = 0; offset < data.length; offset += chunkSize) {
      const chunk = data.subarray(offset, offset + chunkSize);
      const res = await httpRequest(`${server.url}/uploads/${id}/chunks/${offset}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: chunk,
      });
      expect(res.status).toBe(200);
      if (!retried && offset === 4 * chunkSize) {
        // Response "lost": the client sends the same chunk again and is told where to continue.
        const retry = await httpRequest(`${server.url}/uploads/${id}/chunks/${offset}`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/octet-stream' },
          body: chunk,
        });
        expect(retry.status).toBe(409);
        expect(retry.json.expectedOffset).toBe(offset + chunk.length);
        retried = true;
      }
    }
    expect(retried).toBe(true);
    const done = await httpRequest(`${server.url}/uploads/${id}/complete`, { method: 'POST' });
    expect(done.status).toBe(200);
    expect(done.json.session.checksum).toBe(expected);
    const blob = await httpRequest(`${server.url}/blobs/e2e/fifty.bin`);
    expect(blob.status).toBe(200);
    expect(createHash('sha256').update(blob.body).digest('hex')).toBe(expected);
  }, 120_000);

  it('requires the bearer token on upload and blob routes when AUTH_TOKEN is set', async () => {
    const secured = await startServer({
      STORAGE_DIR: join(dataDir, 'secured'),
      DATABASE_URL: `sqlite:${join(dataDir, 'secured.sqlite')}`,
      AUTH_TOKEN: 's3cret',
    });
    try {
      const body = JSON.stringify({ totalSize: 1 });
      const headers = { 'Content-Type': 'application/json' };
      const anonymous = await httpRequest(`${secured.url}/uploads`, { method: 'POST', headers, body });
      expect(anonymous.status).toBe(401);
      expect(anonymous.json.code).toBe('UNAUTHORIZED');
      const wrong = await httpRequest(`${secured.url}/uploads`, {
        method: 'POST',
        headers: { ...headers, Authorization: 'Bearer nope' },
        body,
      });
      expect(wrong.status).toBe(401);
      const allowed = await httpRequest(`${secured.url}/uploads`, {
        method: 'POST',
        headers: { ...headers, Authorization: 'Bearer s3cret' },
        body,
      });
      expect(allowed.status).toBe(201);
      expect((await httpRequest(`${secured.url}/blobs/anything`)).status).toBe(401);
      expect((await httpRequest(`${secured.url}/health`)).status).toBe(200);
    } finally {
      await secured.stop();
    }
  }, 90_000);
});
