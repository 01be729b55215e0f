import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizeContext, ValiBlobModule } from '../../src';
import { httpRequest } from '../support/http-client';

const md5b64 = (data: Buffer) => createHash('md5').update(data).digest('base64');

/**
 * The REST three-step API and the blob route over a real socket (app.listen(0)), with an authorize hook that
 * binds uploads to the caller from the `x-user` header.
 */
describe('REST API and blob route (real HTTP)', () => {
  let root: string;
  let outside: string;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-rest-'));
    outside = await mkdtemp(join(tmpdir(), 'vb-outside-'));
    await writeFile(join(outside, 'secret.txt'), 'secret');
    const moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { local: { root } },
          maxUploadSize: 64 * 1024 * 1024,
          authorize: ({ request }: AuthorizeContext) => {
            const user = (request as { headers: Record<string, string> }).headers['x-user'];
            if (user === 'blocked') return { allow: false, status: 403 };
            return user ? { ownerId: user } : true;
          },
          http: { rest: { path: 'uploads' }, blobs: { path: 'blobs' }, tus: false },
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication();
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  const start = (body: unknown, headers: Record<string, string> = {}) =>
    httpRequest(`${base}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const put = (id: string, offset: number | string, data: Buffer, headers: Record<string, string> = {}) =>
    httpRequest(`${base}/uploads/${id}/chunks/${offset}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream', ...headers },
      body: data,
    });

  it('runs the three steps, retries a chunk safely, and serves the blob with ranges', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const created = await start({ totalSize: data.length, path: 'docs/report.bin', contentType: 'application/pdf', metadata: { title: 'Q3' } });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/uploads/${created.json.uploadId}`);
    const id = created.json.uploadId as string;
    expect(created.json).toMatchObject({ status: 'Pending', uploadedBytes: 0, totalSize: data.length });
    expect(created.json.providerState).toBeUndefined();

    const chunk = 1024 * 1024;
    for (let offset = 0; offset < data.length; offset += chunk) {
      const piece = data.subarray(offset, offset + chunk);
      const res = await put(id, offset, piece, { 'Content-MD5': md5b64(piece) });
      expect(res.status).toBe(200);
      expect(res.json.uploadedBytes).toBe(Math.min(offset + chunk, data.length));
      if (offset === chunk) {
        // The client lost the response and retries the same chunk: 409 with the offset to continue from.
        const retry = await put(id, offset, piece);
        expect(retry.status).toBe(409);
        expect(retry.json).toMatchObject({ code: 'OFFSET_MISMATCH', expectedOffset: offset + chunk });
        expect(retry.headers['upload-offset']).toBe(String(offset + chunk));
      }
    }
    const status = await httpRequest(`${base}/uploads/${id}`);
    expect(status.json).toMatchObject({ status: 'InProgress', uploadedBytes: data.length });
    const done = await httpRequest(`${base}/uploads/${id}/complete`, { method: 'POST' });
    expect(done.status).toBe(200);
    expect(done.json.session.checksum).toBe(createHash('sha256').update(data).digest('hex'));
    const again = await httpRequest(`${base}/uploads/${id}/complete`, { method: 'POST' });
    expect(again.status).toBe(200);
    expect(again.json.session).toEqual(done.json.session);

    const whole = await httpRequest(`${base}/blobs/docs/report.bin`);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(data)).toBe(true);
    expect(whole.headers['content-type']).toBe('application/pdf');
    expect(whole.headers['x-content-type-options']).toBe('nosniff');
    const range = await httpRequest(`${base}/blobs/docs/report.bin`, { headers: { Range: 'bytes=100-199' } });
    expect(range.status).toBe(206);
    expect(range.headers['content-range']).toBe(`bytes 100-199/${data.length}`);
    expect(range.body.equals(data.subarray(100, 200))).toBe(true);
    const suffix = await httpRequest(`${base}/blobs/docs/report.bin`, { headers: { Range: 'bytes=-10' } });
    expect(suffix.body.equals(data.subarray(data.length - 10))).toBe(true);
    const unsatisfiable = await httpRequest(`${base}/blobs/docs/report.bin`, { headers: { Range: `bytes=${data.length}-` } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers['content-range']).toBe(`bytes */${data.length}`);
    const head = await httpRequest(`${base}/blobs/docs/report.bin`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(data.length));
    expect(head.body.length).toBe(0);
  });

  it('answers each error case with its status and stable code', async () => {
    const created = await start({ totalSize: 10 });
    const id = created.json.uploadId as string;
    const cases: Array<[Promise<{ status: number; json: any }>, number, string]> = [
      [start({ totalSize: -5 }), 400, 'INVALID_LENGTH'],
      [start({ totalSize: 65 * 1024 * 1024 }), 413, 'SIZE_EXCEEDED'],
      [start({ path: 'x' }), 400, 'INVALID_LENGTH'],
      [start({ totalSize: 1, path: '../../etc/passwd' }), 400, 'INVALID_PATH'],
      [start({ totalSize: 1, provider: 's3' }), 400, 'UNKNOWN_PROVIDER'],
      [httpRequest(`${base}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"totalSize":' }), 400, 'INVALID_REQUEST'],
      [httpRequest(`${base}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[1]' }), 400, 'INVALID_REQUEST'],
      [put('does-not-exist', 0, Buffer.from('x')), 404, 'UPLOAD_NOT_FOUND'],
      [put(id, 'abc', Buffer.from('x')), 400, 'INVALID_OFFSET'],
      [put(id, '-1', Buffer.from('x')), 400, 'INVALID_OFFSET'],
      [put(id, '1e3', Buffer.from('x')), 400, 'INVALID_OFFSET'],
      [put(id, 5, Buffer.from('x')), 409, 'OFFSET_MISMATCH'],
      [put(id, 0, Buffer.alloc(11)), 413, 'SIZE_EXCEEDED'],
      [put(id, 0, Buffer.from('x'), { 'Content-Type': 'application/json' }), 415, 'UNSUPPORTED_CONTENT_TYPE'],
      [put(id, 0, Buffer.from('x'), { 'Content-MD5': md5b64(Buffer.from('y')) }), 460, 'CHECKSUM_MISMATCH'],
      [put(id, 0, Buffer.from('x'), { 'Upload-Checksum': 'whirlpool AAAA' }), 400, 'UNSUPPORTED_CHECKSUM_ALGORITHM'],
      [put(id, 0, Buffer.from('x'), { 'Upload-Checksum': 'sha1 not-base64!' }), 400, 'INVALID_REQUEST'],
      [httpRequest(`${base}/uploads/${id}/complete`, { method: 'POST' }), 409, 'UPLOAD_INCOMPLETE'],
      [httpRequest(`${base}/uploads/nope`), 404, 'UPLOAD_NOT_FOUND'],
      [start({ totalSize: 1 }, { 'x-user': 'blocked' }), 403, 'FORBIDDEN'],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      expect({ status: res.status, code: res.json?.code }).toEqual({ status, code });
    }
    // Nothing of the failed chunks was kept.
    expect((await httpRequest(`${base}/uploads/${id}`)).json.uploadedBytes).toBe(0);
  });

  it('binds uploads to their owner: another owner gets 404 on every route', async () => {
    const created = await start({ totalSize: 3 }, { 'x-user': 'alice' });
    const id = created.json.uploadId as string;
    expect((await put(id, 0, Buffer.from('abc'), { 'x-user': 'bob' })).status).toBe(404);
    expect((await httpRequest(`${base}/uploads/${id}`, { headers: { 'x-user': 'bob' } })).status).toBe(404);
    expect((await httpRequest(`${base}/uploads/${id}`)).status).toBe(404);
    expect((await httpRequest(`${base}/uploads/${id}/complete`, { method: 'POST', headers: { 'x-user': 'bob' } })).status).toBe(404);
    expect((await httpRequest(`${base}/uploads/${id}`, { method: 'DELETE', headers: { 'x-user': 'bob' } })).status).toBe(404);
    expect((await put(id, 0, Buffer.from('abc'), { 'x-user': 'alice' })).status).toBe(200);
  });

  it('aborts: the status stays readable, writes answer 410', async () => {
    const created = await start({ totalSize: 100 });
    const id = created.json.uploadId as string;
    await put(id, 0, Buffer.alloc(10));
    const aborted = await httpRequest(`${base}/uploads/${id}`, { method: 'DELETE' });
    expect(aborted.status).toBe(200);
    expect(aborted.json.status).toBe('Aborted');
    expect((await httpRequest(`${base}/uploads/${id}`)).json.status).toBe('Aborted');
    const late = await put(id, 10, Buffer.alloc(10));
    expect(late.status).toBe(410);
    expect(late.json.code).toBe('UPLOAD_GONE');
    expect((await httpRequest(`${base}/uploads/${id}`, { method: 'DELETE' })).status).toBe(410);
  });

  it('never lets a path escape the storage root, in any spelling', async () => {
    // A symlink inside the root that points outside must not be followed for reads or writes.
    await mkdir(join(root, 'links'), { recursive: true });
    await symlink(outside, join(root, 'links', 'out'));
    await symlink(join(outside, 'secret.txt'), join(root, 'links', 'secret.txt'));
    const attacks = [
      '../x',
      'a/../../x',
      '/etc/passwd',
      'C:/windows/x',
      'a\\..\\..\\x',
      'a\u0000b',
      'a/\u0007b',
      'a//b',
      './a',
      '.valiblob/staging/x',
      'links/out/evil.txt',
    ];
    for (const path of attacks) {
      const res = await start({ totalSize: 1, path });
      if (res.status === 201) {
        // Accepted paths must still be refused when the symlinked parent resolves outside the root.
        const chunk = await put(res.json.uploadId, 0, Buffer.from('z'));
        const done = await httpRequest(`${base}/uploads/${res.json.uploadId}/complete`, { method: 'POST' });
        expect({ path, chunk: chunk.status, done: done.status, code: done.json?.code }).toEqual({ path, chunk: 200, done: 400, code: 'INVALID_PATH' });
      } else {
        expect({ path, status: res.status, code: res.json?.code }).toEqual({ path, status: 400, code: 'INVALID_PATH' });
      }
    }
    for (const url of [
      '/blobs/..%2f..%2fetc%2fpasswd',
      '/blobs/%2e%2e/%2e%2e/etc/passwd',
      '/blobs/a%00b',
      '/blobs/a%5c..%5cx',
      '/blobs/links/secret.txt',
      '/blobs/links/out/secret.txt',
      '/blobs/.valiblob/meta/x.json',
      '/blobs/%E0%A4%A',
    ]) {
      const res = await httpRequest(`${base}${url}`);
      expect({ url, status: res.status, leaked: res.body.toString().includes('secret') && !res.json }).toEqual({ url, status: 400, leaked: false });
    }
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });

  it('answers a sweep of malformed requests with 4xx, never 5xx', async () => {
    const created = await start({ totalSize: 100 });
    const id = created.json.uploadId as string;
    const requests = [
      httpRequest(`${base}/uploads`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hello' }),
      httpRequest(`${base}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'null' }),
      start({ totalSize: 1e300 }),
      start({ totalSize: '12' }),
      start({ totalSize: 1, metadata: 'x' }),
      start({ totalSize: 1, metadata: { a: { b: 1 } } }),
      start({ totalSize: 1, contentType: 'text/plain\r\nX-Evil: 1' }),
      start({ totalSize: 1, path: 'x'.repeat(5000) }),
      start({ totalSize: 1, path: 42 }),
      put(id, '99999999999999999999', Buffer.from('x')),
      put(id, 0, Buffer.from('x'), { 'Content-MD5': 'short' }),
      put(`${'a'.repeat(300)}`, 0, Buffer.from('x')),
      put('%2e%2e', 0, Buffer.from('x')),
      httpRequest(`${base}/uploads/${id}/chunks/0`, { method: 'PUT', headers: { 'Content-Length': '5' }, body: Buffer.from('12345') }),
      httpRequest(`${base}/blobs/`),
      httpRequest(`${base}/blobs/missing.bin`),
      httpRequest(`${base}/blobs/missing.bin`, { headers: { Range: 'bytes=abc' } }),
    ];
    for (const res of await Promise.all(requests)) {
      expect(res.status).toBeLessThan(500);
      expect(res.status).toBeGreaterThanOrEqual(200);
    }
  });
});
