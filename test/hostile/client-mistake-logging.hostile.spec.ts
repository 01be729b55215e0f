import { Logger } from '@nestjs/common';
import { CapturingLogger } from '../support/capturing-logger';
import { httpRequest } from '../support/http-client';
import { PLATFORMS, Platform, startTusApp, TusTestApp } from '../tus/tus-app';
import { OFFSET_STREAM, TUS } from '../tus/tus-http';

/** A fetch answer's JSON body, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any shape; assertions read its fields
const jsonOf = (res: Response): Promise<any> => res.json();

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const STACK = /\n\s+at |Error: .*\n|\.ts:\d+:\d+/;

/**
 * Client mistakes are 4xx with a stable code and never put a stack trace in the server log (a hostile client
 * must not be able to flood it): ValiBlob logs them at debug, one line each.
 */
describe.each(PLATFORMS)('logging of client mistakes on %s', (platform: Platform) => {
  let t: TusTestApp;
  const logger = new CapturingLogger();
  const consoleErrors: string[] = [];
  let restoreConsole: () => void;

  beforeAll(async () => {
    t = await startTusApp(
      platform,
      { maxUploadSize: 1024 * 1024 },
      { tus: { path: 'files' }, rest: { path: 'uploads' }, blobs: { path: 'blobs' } },
    );
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
    t.app.useLogger(logger);
    // Platforms may print errors themselves (Express's final handler): those count too.
    const spy = jest
      .spyOn(console, 'error')
      .mockImplementation((...args: unknown[]) => void consoleErrors.push(args.join(' ')));
    restoreConsole = () => spy.mockRestore();
  });
  afterAll(async () => {
    restoreConsole?.();
    await t?.close();
    Logger.overrideLogger(['error']);
  });

  it('a batch of hostile requests: every answer 4xx, nothing logged above debug, no stack anywhere', async () => {
    const base = t.origin;
    const json = { 'Content-Type': 'application/json' };
    const createRest = (body: string) => fetch(`${base}/uploads`, { method: 'POST', headers: json, body });
    const rest = await jsonOf(await createRest('{"totalSize":10}'));
    const createdTus = await fetch(t.endpoint, { method: 'POST', headers: { ...TUS, 'Upload-Length': '10' } });
    const tusUrl = new URL(createdTus.headers.get('location')!, t.endpoint).pathname;
    const octets = { 'Content-Type': 'application/octet-stream' };
    const patch = { ...TUS, 'Content-Type': OFFSET_STREAM };
    const requests: Array<[string, string, Record<string, string>?, string?]> = [
      ['POST', '/uploads', json, '{"totalSize":'],
      ['POST', '/uploads', json, '{"totalSize":null}'],
      ['POST', '/uploads', json, '{"totalSize":5,"path":"../../etc/passwd"}'],
      ['POST', '/uploads', json, '{"totalSize":5,"provider":"nope"}'],
      ['POST', '/uploads', json, '{"totalSize":99999999999}'],
      ['POST', '/uploads', json, '{"totalSize":5,"contentType":"text/日本"}'],
      ['POST', '/uploads', json, '{"totalSize":5,"metadata":[1]}'],
      ['PUT', `/uploads/${rest.uploadId}/chunks/abc`, { 'Content-Type': 'application/octet-stream' }, 'x'],
      ['PUT', `/uploads/${rest.uploadId}/chunks/5`, { 'Content-Type': 'application/octet-stream' }, 'x'],
      ['PUT', `/uploads/${rest.uploadId}/chunks/0`, { 'Content-Type': 'application/json' }, '{"a":1}'],
      ['PUT', `/uploads/${rest.uploadId}/chunks/0`, { ...octets, 'Content-MD5': 'AAAA' }, 'x'],
      ['PUT', '/uploads/nope/chunks/0', { 'Content-Type': 'application/octet-stream' }, 'x'],
      ['POST', `/uploads/${rest.uploadId}/complete`],
      ['GET', '/uploads/%E0%A4%A'],
      ['GET', '/uploads/..%2F..%2Fetc'],
      ['POST', '/files', { 'Upload-Length': '5' }],
      ['POST', '/files', { ...TUS, 'Upload-Length': '-1' }],
      ['POST', '/files', { ...TUS, 'Upload-Length': '5', 'Upload-Defer-Length': '1' }],
      ['POST', '/files', { ...TUS, 'Upload-Length': '5', 'Upload-Metadata': 'bad key value!' }],
      ['POST', '/files', { ...TUS, 'Upload-Concat': 'final;/files/../../x' }],
      ['POST', '/files', { ...TUS, 'Upload-Length': '5', 'Upload-Metadata': `filetype ${b64('a/日')}` }],
      ['PATCH', tusUrl, { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'text/plain' }, 'x'],
      ['PATCH', tusUrl, { ...patch, 'Upload-Offset': '3' }, 'x'],
      ['PATCH', tusUrl, { ...patch, 'Upload-Offset': '0' }, 'x'.repeat(11)],
      ['PATCH', tusUrl, { ...patch, 'Upload-Offset': '0', 'Upload-Checksum': 'sha1 AAAA' }, 'x'],
      ['PATCH', '/files/nope', { ...patch, 'Upload-Offset': '0' }, 'x'],
      ['HEAD', '/files/nope', TUS],
      ['GET', tusUrl],
      ['GET', '/files/%E0%A4%A'],
      ['DELETE', '/files/nope', TUS],
      ['POST', tusUrl, { ...TUS, 'X-HTTP-Method-Override': 'TRACE' }],
      ['GET', '/blobs/%E0%A4%A'],
      ['GET', '/blobs/missing/file.bin'],
      ['GET', '/blobs/..%2F..%2Fetc%2Fpasswd'],
      ['GET', '/blobs/a%2Fb'],
      ['HEAD', '/blobs/missing/file.bin'],
      ['POST', '/uploads', { 'Content-Type': 'application/json' }, ''],
      ['POST', '/uploads', { 'Content-Type': 'application/json' }, '{"__proto__":{}}'],
      ['POST', '/uploads', { 'Content-Type': 'application/json' }, `{"metadata":"${'x'.repeat(2 * 1024 * 1024)}"}`],
      // Unknown routes, under a mount and outside (Fastify's 415 for a body it has no parser for).
      ['PUT', `/uploads/${rest.uploadId}/chunks`, {}, 'x'],
      ['POST', '/not-ours', octets, 'x'],
      ['POST', '/not-ours', {}, 'x'],
    ];
    for (const [method, path, headers, body] of requests) {
      const res = await httpRequest(`${base}${path}`, { method, headers, body });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: expect.any(Number) });
      const clientError = res.status >= 400 && res.status < 500;
      expect({ method, path, clientError }).toEqual({ method, path, clientError: true });
    }
    // A REST upload whose filename metadata is a lone surrogate (valid JSON, not valid Unicode), read over tus:
    // the download's Content-Disposition must not blow up into a 500 with a stack.
    const odd = await jsonOf(await createRest('{"totalSize":2,"metadata":{"filename":"a\\ud800"}}'));
    await fetch(`${base}/uploads/${odd.uploadId}/chunks/0`, { method: 'PUT', headers: octets, body: 'ok' });
    expect((await fetch(`${base}/uploads/${odd.uploadId}/complete`, { method: 'POST' })).status).toBe(200);
    const download = await httpRequest(`${t.endpoint}/${odd.uploadId}`);
    expect(download.status).toBe(200);
    expect(download.body.toString()).toBe('ok');

    const loud = logger.entries.filter((e) => e.level === 'error' || e.level === 'warn');
    expect(loud).toEqual([]);
    expect(logger.entries.filter((e) => STACK.test(e.text))).toEqual([]);
    expect(consoleErrors).toEqual([]);
    // The mistakes are still visible to an operator who turns on debug logging, one line each.
    expect(logger.entries.some((e) => e.level === 'debug' && /^4\d\d [A-Z_]+: /.test(e.text))).toBe(true);
  });
});
