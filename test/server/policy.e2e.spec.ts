import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest, TestResponse } from '../support/http-client';
import { ServerProcess, startServer } from '../support/server-process';

/**
 * The runnable server (`npm start`) with the policy variables: the rules reach the engine through
 * `policyFromConfig`, and refusals answer tus and REST with their status and stable code.
 */
describe('runnable server with an upload policy (ALLOWED_TYPES, BLOCKED_EXTENSIONS, SNIFF, QUOTA_BYTES)', () => {
  const QUOTA = 1000;
  let dataDir: string;
  let server: ServerProcess;
  const alice = { Authorization: 'Bearer tokenA' };
  const bob = { Authorization: 'Bearer tokenB' };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vb-server-policy-'));
    server = await startServer({
      STORAGE_DIR: join(dataDir, 'blobs'),
      DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
      AUTH_TOKENS: 'alice:tokenA,bob:tokenB',
      ALLOWED_TYPES: 'image/*,application/pdf',
      BLOCKED_EXTENSIONS: 'exe,js',
      SNIFF: 'enforce',
      QUOTA_BYTES: String(QUOTA),
    });
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const b64 = (value: string) => Buffer.from(value).toString('base64');

  /** tus creation (no body) with `filename` / `filetype` metadata. */
  function tusCreate(headers: Record<string, string>, size: number, filename: string, filetype: string) {
    return httpRequest(`${server.url}/files`, {
      method: 'POST',
      headers: {
        ...headers,
        'Tus-Resumable': '1.0.0',
        'Upload-Length': size,
        'Upload-Metadata': `filename ${b64(filename)},filetype ${b64(filetype)}`,
      },
    });
  }

  function restCreate(headers: Record<string, string>, body: Record<string, unknown>) {
    return httpRequest(`${server.url}/uploads`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** The answer carries the rejection: status, and a JSON body with the stable code and a message. */
  function expectRejected(res: TestResponse, status: number, code: string): void {
    expect({ status: res.status, code: res.json?.code }).toEqual({ status, code });
    expect(res.json.statusCode).toBe(status);
    expect(typeof res.json.message).toBe('string');
  }

  it('GET /demo/policy says what the server accepts (quota per owner under AUTH_TOKENS)', async () => {
    const res = await httpRequest(`${server.url}/demo/policy`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      allowedContentTypes: ['image/*', 'application/pdf'],
      allowedExtensions: null,
      blockedExtensions: ['exe', 'js'],
      sniff: 'enforce',
      quotaBytes: QUOTA,
      quotaScope: 'owner',
      virusScan: false,
    });
  });

  it('a type outside ALLOWED_TYPES is 415 TYPE_NOT_ALLOWED on tus and REST', async () => {
    expectRejected(await tusCreate(alice, 10, 'notes.txt', 'text/plain'), 415, 'TYPE_NOT_ALLOWED');
    expectRejected(
      await restCreate(alice, { totalSize: 10, path: 'notes.txt', contentType: 'text/plain' }),
      415,
      'TYPE_NOT_ALLOWED',
    );
    expect((await tusCreate(alice, 10, 'photo.png', 'image/png')).status).toBe(201);
  });

  it('a blocked extension is 400 EXTENSION_NOT_ALLOWED, also behind another extension', async () => {
    expectRejected(await tusCreate(alice, 10, 'invoice.exe.png', 'image/png'), 400, 'EXTENSION_NOT_ALLOWED');
    expectRejected(
      await restCreate(alice, { totalSize: 10, path: 'lib/app.JS', contentType: 'image/png' }),
      400,
      'EXTENSION_NOT_ALLOWED',
    );
  });

  it('SNIFF=enforce: PDF bytes declared as image/png are 415 TYPE_MISMATCH and the session ends Rejected', async () => {
    const pdf = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n', 'latin1');
    const created = await restCreate(bob, { totalSize: pdf.length, path: 'fake.png', contentType: 'image/png' });
    expect(created.status).toBe(201);
    const id = created.json.uploadId as string;
    const put = await httpRequest(`${server.url}/uploads/${id}/chunks/0`, {
      method: 'PUT',
      headers: { ...bob, 'Content-Type': 'application/octet-stream' },
      body: pdf,
    });
    expectRejected(put, 415, 'TYPE_MISMATCH');
    const status = await httpRequest(`${server.url}/uploads/${id}`, { headers: bob });
    expect(status.json).toMatchObject({ status: 'Rejected', rejection: { status: 415, code: 'TYPE_MISMATCH' } });
    expect((await httpRequest(`${server.url}/blobs/fake.png`, { headers: bob })).status).toBe(404);
  });

  it('QUOTA_BYTES is per owner: alice past hers gets 413 QUOTA_EXCEEDED while bob still creates', async () => {
    // Reservations count at creation (declared size), before any byte is sent.
    expect((await restCreate(alice, { totalSize: 800, path: 'big.png', contentType: 'image/png' })).status).toBe(201);
    expectRejected(await tusCreate(alice, 300, 'more.png', 'image/png'), 413, 'QUOTA_EXCEEDED');
    expectRejected(
      await restCreate(alice, { totalSize: 300, path: 'more.png', contentType: 'image/png' }),
      413,
      'QUOTA_EXCEEDED',
    );
    expect((await tusCreate(bob, 300, 'more.png', 'image/png')).status).toBe(201);
  });
});
