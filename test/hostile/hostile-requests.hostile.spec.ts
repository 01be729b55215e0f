import { ResumableUploadService } from '../../src/uploads/resumable-upload.service';
import { PLATFORMS, Platform, startTusApp, TusTestApp } from '../tus/tus-app';
import { OFFSET_STREAM, TUS } from '../tus/tus-http';
import { rawHttp } from './raw-http';

/** A fetch answer's JSON body, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any shape; assertions read its fields
const jsonOf = (res: Response): Promise<any> => res.json();

const JSON_TYPE = { 'Content-Type': 'application/json' };
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * Requests from the hostile classes of issue 12 §3 on both HTTP platforms, each answered with a clear 4xx (or
 * handled safely) instead of a state change the client did not ask for: REST lengths, method override,
 * `Location` spoofing, content types that cannot be headers, reserved metadata, and tus HEAD recovery.
 */
describe.each(PLATFORMS)('hostile requests on %s', (platform: Platform) => {
  let t: TusTestApp;
  let trusted: TusTestApp;
  let port: number;

  beforeAll(async () => {
    t = await startTusApp(platform);
    trusted = await startTusApp(platform, { tus: { trustForwardedHeaders: true } });
    port = Number(new URL(t.origin).port);
  });
  afterAll(async () => {
    await t?.close();
    await trusted?.close();
  });

  const restCreate = (body: unknown) =>
    fetch(`${t.origin}/uploads`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });
  const tusCreate = (headers: Record<string, string>) =>
    fetch(t.endpoint, { method: 'POST', headers: { ...TUS, 'Upload-Length': '5', ...headers } });

  it('REST: totalSize null (REST has no deferred length) and every non-integer → 400 INVALID_LENGTH', async () => {
    for (const totalSize of [null, '10', 1.5, true, [], {}, -1, 1e300, 'abc', '']) {
      const res = await restCreate({ totalSize, path: `len/${platform}.bin` });
      expect({ totalSize, status: res.status }).toEqual({ totalSize, status: 400 });
      expect((await jsonOf(res)).code).toBe('INVALID_LENGTH');
    }
  });

  it('content types that cannot be a header are refused at create (REST contentType, tus filetype)', async () => {
    const unheaderable = [
      'text/plain; name=日本',
      'image/\u0100',
      'text/plain\u0001',
      'a\r\nX-Evil: 1',
      'text/\u0085x',
    ];
    for (const contentType of unheaderable) {
      const res = await restCreate({ totalSize: 1, contentType });
      expect({ contentType, status: res.status }).toEqual({ contentType, status: 400 });
    }
    // Latin-1 is a valid header value: accepted as before.
    expect((await restCreate({ totalSize: 1, contentType: 'text/plain; name=caf\u00e9' })).status).toBe(201);
    for (const filetype of ['image/пнг', 'text/plain\u0007']) {
      const res = await tusCreate({ 'Upload-Metadata': `filename ${b64('x.bin')},filetype ${b64(filetype)}` });
      expect({ filetype, status: res.status }).toEqual({ filetype, status: 400 });
      expect((await jsonOf(res)).code).toBe('INVALID_METADATA');
    }
  });

  it('the reserved metadata prefix is refused from clients and never shown to them', async () => {
    const rest = await restCreate({ totalSize: 1, metadata: { 'valiblob:transport': 'tus' } });
    expect(rest.status).toBe(400);
    expect((await jsonOf(rest)).code).toBe('INVALID_METADATA');
    expect((await tusCreate({ 'Upload-Metadata': `valiblob:transport ${b64('tus')}` })).status).toBe(400);
    const created = await tusCreate({ 'Upload-Metadata': `filename ${b64('a.bin')}` });
    const id = created.headers.get('location')!.split('/').pop()!;
    const view = await jsonOf(await fetch(`${t.origin}/uploads/${id}`));
    expect(view.metadata).toEqual({ filename: 'a.bin' });
    const head = await fetch(`${t.endpoint}/${id}`, { method: 'HEAD', headers: TUS });
    expect(head.headers.get('upload-metadata')).toBe(`filename ${b64('a.bin')}`);
  });

  it('X-HTTP-Method-Override is honoured on POST only: GET, HEAD and PATCH stay what they are', async () => {
    const id = (await tusCreate({})).headers.get('location')!.split('/').pop()!;
    const url = `${t.endpoint}/${id}`;
    const get = await fetch(url, { headers: { ...TUS, 'X-HTTP-Method-Override': 'DELETE' } });
    expect(get.status).toBe(409); // a GET of an unfinished upload, not a termination
    const head = await fetch(url, { method: 'HEAD', headers: { ...TUS, 'X-HTTP-Method-Override': 'DELETE' } });
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe('0');
    const patch = await fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, 'X-HTTP-Method-Override': 'DELETE', 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM },
      body: Buffer.from('abc'),
    });
    expect(patch.status).toBe(204);
    expect(patch.headers.get('upload-offset')).toBe('3');
    const after = await fetch(url, { method: 'HEAD', headers: TUS });
    expect(after.status).toBe(200);
    expect(after.headers.get('upload-offset')).toBe('3');
    // POST still acts as the named method (tus-js-client overridePatchMethod).
    const asDelete = await fetch(url, { method: 'POST', headers: { ...TUS, 'X-HTTP-Method-Override': 'DELETE' } });
    expect(asDelete.status).toBe(204);
  });

  it('Location never comes from an absolute-form request target (tus and REST, raw socket)', async () => {
    const tus = await rawHttp(
      port,
      `POST http://evil.example/files HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 5`,
    );
    // Both platforms route an absolute-form target (RFC 9112 §3.2.2 says servers must accept it).
    expect(tus.status).toBe(201);
    expect(tus.headers.location).toMatch(/^\/files\/[\w-]+$/);
    expect(JSON.stringify(tus.headers)).not.toContain('evil.example');
    const rest = await rawHttp(
      port,
      `POST http://evil.example/uploads HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json`,
      '{"totalSize":1}',
    );
    expect(rest.status).toBe(201);
    expect(rest.headers.location).toMatch(/^\/uploads\/[\w-]+$/);
    expect(JSON.stringify(rest.headers)).not.toContain('evil.example');
  });

  it('with trusted forwarded headers: Location from a plain Host only, never the target authority', async () => {
    const trustedPort = Number(new URL(trusted.origin).port);
    const viaHost = await rawHttp(
      trustedPort,
      'POST http://evil.example/files HTTP/1.1\r\nHost: files.example.com:8443\r\n' +
        'Tus-Resumable: 1.0.0\r\nUpload-Length: 5',
    );
    expect(viaHost.status).toBe(201);
    expect(viaHost.headers.location).toMatch(/^http:\/\/files\.example\.com:8443\/files\/[\w-]+$/);
    expect(JSON.stringify(viaHost.headers)).not.toContain('evil.example');
    for (const host of ['evil.example/x?', 'evil.example@other', 'a b']) {
      const head = `POST /files HTTP/1.1\r\nHost: ${host}\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 5`;
      const res = await rawHttp(trustedPort, head);
      expect(res.status).toBeLessThan(500);
      if (res.status === 201) expect(res.headers.location).toMatch(/^\/files\/[\w-]+$/);
    }
  });

  it('a tus HEAD finishes only tus uploads whose completion died, never a REST upload awaiting complete', async () => {
    const uploads = t.app.get(ResumableUploadService);
    // REST: every byte stored, the client has not called complete (it may still want to check or abort).
    const rest = await jsonOf(await restCreate({ totalSize: 4, path: `rest-pending/${platform}.bin` }));
    const put = await fetch(`${t.origin}/uploads/${rest.uploadId}/chunks/0`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Buffer.from('rest'),
    });
    expect(put.status).toBe(200);
    const head = await fetch(`${t.endpoint}/${rest.uploadId}`, { method: 'HEAD', headers: TUS });
    expect(head.status).toBe(200);
    expect((await uploads.getSession(rest.uploadId)).status).not.toBe('Complete');
    expect((await jsonOf(await fetch(`${t.origin}/uploads/${rest.uploadId}`))).status).toBe('InProgress');

    // tus: all bytes stored but the completion never ran (as if the server died in it) → HEAD finishes it.
    const id = (await tusCreate({})).headers.get('location')!.split('/').pop()!;
    const { Readable } = await import('node:stream');
    const body = Readable.from([Buffer.from('hello')]);
    await uploads.uploadChunk({ uploadId: id, offset: 0, body, contentLength: 5 });
    expect((await uploads.getSession(id)).status).not.toBe('Complete');
    const tusHead = await fetch(`${t.endpoint}/${id}`, { method: 'HEAD', headers: TUS });
    expect(tusHead.headers.get('upload-offset')).toBe('5');
    expect((await uploads.getSession(id)).status).toBe('Complete');
  });
});
