import { Readable } from 'node:stream';
import { StorageProvider } from '../../src/storage/storage-provider';
import { testBytes } from '../tus/tus-http';
import { EACH_PLATFORM, RestTestApp, startRestApp } from './rest-app';

/**
 * The blob route mounts and answers identically on Express and Fastify: GET/HEAD, single ranges (206/416),
 * 404 BLOB_NOT_FOUND, the download safety headers, the authorize hook, and the path exactly as routed.
 */
describe.each(EACH_PLATFORM)('blob route on %s', (platform) => {
  let a: RestTestApp;
  const data = testBytes(300 * 1024 + 7, 3);
  beforeAll(async () => {
    a = await startRestApp(platform);
    const storage = a.t.app.get(StorageProvider);
    await storage.put('docs/report.pdf', Readable.from([data]), { contentType: 'application/pdf' });
    await storage.put('docs/été à.txt', Readable.from([Buffer.from('accents')]));
  });
  afterAll(async () => a?.close());

  it('serves GET and HEAD with the download safety headers', async () => {
    const whole = await a.call('/blobs/docs/report.pdf');
    expect(whole.status).toBe(200);
    expect(whole.body.equals(data)).toBe(true);
    expect(whole.headers).toMatchObject({
      'content-type': 'application/pdf',
      'content-length': String(data.length),
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'",
      'content-disposition': "attachment; filename*=UTF-8''report.pdf",
    });
    expect(Date.parse(String(whole.headers['last-modified']))).toBeGreaterThan(0);
    const head = await a.call('/blobs/docs/report.pdf', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const name of [
      'content-type',
      'content-length',
      'accept-ranges',
      'x-content-type-options',
      'content-security-policy',
      'content-disposition',
      'last-modified',
    ]) {
      expect([name, head.headers[name]]).toEqual([name, whole.headers[name]]);
    }
    const named = await a.call(`/blobs/docs/${encodeURIComponent('été à.txt')}`);
    expect([named.status, named.body.toString()]).toEqual([200, 'accents']);
    expect(named.headers['content-type']).toBe('application/octet-stream');
    expect(named.headers['content-disposition']).toBe(
      `attachment; filename*=UTF-8''${encodeURIComponent('été à.txt')}`,
    );
  });

  it('answers single ranges with 206, past the end with 416, anything else with the whole blob', async () => {
    const range = (value: string) => a.call('/blobs/docs/report.pdf', { headers: { Range: value } });
    const part = await range('bytes=100-199');
    expect([part.status, part.headers['content-range'], part.headers['content-length']]).toEqual([
      206,
      `bytes 100-199/${data.length}`,
      '100',
    ]);
    expect(part.body.equals(data.subarray(100, 200))).toBe(true);
    const suffix = await range('bytes=-10');
    expect([suffix.status, suffix.body.equals(data.subarray(data.length - 10))]).toEqual([206, true]);
    const open = await range(`bytes=${data.length - 5}-`);
    expect([open.status, open.body.equals(data.subarray(data.length - 5))]).toEqual([206, true]);
    const clipped = await range(`bytes=10-${data.length * 2}`);
    expect([clipped.status, clipped.headers['content-range']]).toEqual([
      206,
      `bytes 10-${data.length - 1}/${data.length}`,
    ]);
    const past = await range(`bytes=${data.length}-`);
    expect([past.status, past.json?.code, past.headers['content-range']]).toEqual([
      416,
      'INVALID_RANGE',
      `bytes */${data.length}`,
    ]);
    for (const ignored of ['bytes=abc', 'bytes=0-1,5-6', 'items=0-1', `bytes=0-${data.length - 1}`]) {
      const res = await range(ignored);
      expect([ignored, res.status, res.body.length]).toEqual([ignored, 200, data.length]);
    }
  });

  it('answers a missing blob, and the mount itself, with 404 BLOB_NOT_FOUND on GET and HEAD', async () => {
    for (const url of ['/blobs/docs/missing.pdf', '/blobs/', '/blobs/docs/report.pdf/inner']) {
      for (const method of ['GET', 'HEAD']) {
        const res = await a.call(url, { method });
        expect([url, method, res.status]).toEqual([url, method, 404]);
        if (method === 'GET')
          expect(res.json).toEqual({ statusCode: 404, code: 'BLOB_NOT_FOUND', message: 'Blob not found' });
      }
    }
  });

  it('reads the path as routed: decoded segments, an encoded slash refused', async () => {
    expect((await a.call('/blobs/%64ocs/report%2Epdf')).status).toBe(200);
    expect((await a.call('/blobs/docs/report.pdf?download=1')).status).toBe(200);
    for (const url of [
      '/blobs/docs%2Freport.pdf',
      '/blobs/docs%2freport.pdf',
      '/blobs/docs/report.pdf/',
      '/blobs/docs//report.pdf',
    ]) {
      for (const method of ['GET', 'HEAD']) {
        const res = await a.call(url, { method });
        expect([url, method, res.status]).toEqual([url, method, 400]);
        if (method === 'GET') expect([url, res.json.code]).toEqual([url, 'INVALID_PATH']);
      }
    }
  });

  it('asks the authorize hook: 401 and 403 with their codes, before anything is read', async () => {
    const nobody = await a.call('/blobs/docs/report.pdf', { headers: { 'x-user': 'nobody' } });
    expect([nobody.status, nobody.json.code]).toEqual([401, 'UNAUTHORIZED']);
    const blocked = await a.call('/blobs/docs/missing.pdf', { headers: { 'x-user': 'blocked' } });
    expect([blocked.status, blocked.json.code]).toEqual([403, 'FORBIDDEN']);
    const head = await a.call('/blobs/docs/report.pdf', { method: 'HEAD', headers: { 'x-user': 'blocked' } });
    expect([head.status, head.body.length]).toEqual([403, 0]);
  });

  it('serves a GET or HEAD that carries a body as if it had none (no platform parses it)', async () => {
    for (const [type, body] of [
      ['application/json', '{'],
      ['application/json', '{"a":1}'],
      ['text/plain', 'x'],
      ['application/x-unknown', 'x'],
    ]) {
      for (const method of ['GET', 'HEAD']) {
        const res = await a.call('/blobs/docs/report.pdf', { method, headers: { 'Content-Type': type }, body });
        expect([type, body, method, res.status]).toEqual([type, body, method, 200]);
      }
    }
    const missing = await a.call('/blobs/docs/missing.pdf', {
      headers: { 'Content-Type': 'application/json' },
      body: '{',
    });
    expect([missing.status, missing.json.code]).toEqual([404, 'BLOB_NOT_FOUND']);
  });
});
