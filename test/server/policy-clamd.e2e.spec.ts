import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eicarTestString, FakeClamd, startFakeClamd } from '../support/fake-clamd';
import { httpRequest } from '../support/http-client';
import { ServerProcess, startServer } from '../support/server-process';

/**
 * The runnable server with `CLAMD=host:port`: every upload is scanned over clamd's INSTREAM protocol (a fake clamd
 * speaking the real protocol) before it is published, on tus and REST; with clamd down the server fails closed.
 */
describe('runnable server with CLAMD (scan before publish)', () => {
  let dataDir: string;
  let clamd: FakeClamd;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vb-server-clamd-'));
    clamd = await startFakeClamd();
    const address = clamd.address as { host: string; port: number };
    server = await startServer({
      STORAGE_DIR: join(dataDir, 'blobs'),
      DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
      CLAMD: `${address.host}:${address.port}`,
    });
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await clamd?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A REST upload in one chunk; resolves with the answer of complete. */
  async function restUpload(path: string, data: Buffer) {
    const json = { 'Content-Type': 'application/json' };
    const created = await httpRequest(`${server.url}/uploads`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ totalSize: data.length, path }),
    });
    expect(created.status).toBe(201);
    const id = created.json.uploadId as string;
    const put = await httpRequest(`${server.url}/uploads/${id}/chunks/0`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: data,
    });
    expect(put.status).toBe(200);
    return { id, complete: () => httpRequest(`${server.url}/uploads/${id}/complete`, { method: 'POST' }) };
  }

  it('a clean upload is scanned and published', async () => {
    const before = clamd.bytesReceived;
    const { complete } = await restUpload('clean.txt', Buffer.from('perfectly harmless'));
    expect((await complete()).status).toBe(200);
    expect(clamd.bytesReceived - before).toBeGreaterThanOrEqual(18);
  });

  it('EICAR over tus (creation-with-upload) is 422 VIRUS_FOUND, never published', async () => {
    const eicar = Buffer.from(eicarTestString());
    const res = await httpRequest(`${server.url}/files`, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': eicar.length,
        'Upload-Metadata': `filename ${Buffer.from('eicar.com').toString('base64')}`,
        'Content-Type': 'application/offset+octet-stream',
      },
      body: eicar,
    });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ code: 'VIRUS_FOUND' });
    expect(res.json.message).toContain('Eicar-Test-Signature');
    const id = String(res.headers.location).split('/').pop()!;
    const status = await httpRequest(`${server.url}/uploads/${id}`);
    expect(status.json).toMatchObject({ status: 'Rejected', rejection: { code: 'VIRUS_FOUND' } });
  });

  it('clamd down: 503 SCANNER_UNAVAILABLE, nothing published; the upload completes once clamd is back', async () => {
    const { complete } = await restUpload('later.txt', Buffer.from('waiting for the scanner'));
    const address = clamd.address as { host: string; port: number };
    await clamd.close();
    const down = await complete();
    expect(down.status).toBe(503);
    expect(down.json).toMatchObject({ code: 'SCANNER_UNAVAILABLE' });
    expect((await httpRequest(`${server.url}/blobs/later.txt`)).status).not.toBe(200);
    clamd = await startFakeClamd({ port: address.port });
    expect((await complete()).status).toBe(200);
  });
});
