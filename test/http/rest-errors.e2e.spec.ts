import { TestResponse } from '../support/http-client';
import { EACH_PLATFORM, md5b64, RestTestApp, startRestApp } from './rest-app';

/**
 * Every REST error case answers the same status and stable `code` on Express and on Fastify: the library's
 * own checks, and the cases each platform catches before a handler runs (body parsers, content types).
 */
describe.each(EACH_PLATFORM)('REST error cases on %s', (platform) => {
  let a: RestTestApp;
  beforeAll(async () => {
    a = await startRestApp(platform);
  });
  afterAll(async () => a?.close());

  const json = (body: string, type = 'application/json', headers: Record<string, string> = {}) =>
    a.call('/uploads', { method: 'POST', headers: { 'Content-Type': type, ...headers }, body });
  const expectAll = async (cases: Array<[string, Promise<TestResponse>, number, string]>) => {
    const seen = [];
    for (const [name, pending] of cases) {
      const res = await pending;
      seen.push({
        name,
        status: res.status,
        code: res.json?.code,
        json: res.headers['content-type']?.includes('json') ?? false,
      });
    }
    expect(seen).toEqual(cases.map(([name, , status, code]) => ({ name, status, code, json: true })));
  };

  it('answers each library check with its status and stable code', async () => {
    const id = (await a.start({ totalSize: 10 })).json.uploadId as string;
    await expectAll([
      ['negative size', a.start({ totalSize: -5 }), 400, 'INVALID_LENGTH'],
      ['size over the cap', a.start({ totalSize: 65 * 1024 * 1024 }), 413, 'SIZE_EXCEEDED'],
      ['no size', a.start({ path: 'x' }), 400, 'INVALID_LENGTH'],
      ['size as a string', a.start({ totalSize: '12' }), 400, 'INVALID_LENGTH'],
      ['escaping path', a.start({ totalSize: 1, path: '../../etc/passwd' }), 400, 'INVALID_PATH'],
      ['path not a string', a.start({ totalSize: 1, path: 42 }), 400, 'INVALID_REQUEST'],
      ['over-long path', a.start({ totalSize: 1, path: 'x'.repeat(5000) }), 400, 'INVALID_PATH'],
      ['unknown provider', a.start({ totalSize: 1, provider: 's3' }), 400, 'UNKNOWN_PROVIDER'],
      ['unknown upload', a.put('does-not-exist', 0, Buffer.from('x')), 404, 'UPLOAD_NOT_FOUND'],
      ['offset not a number', a.put(id, 'abc', Buffer.from('x')), 400, 'INVALID_OFFSET'],
      ['negative offset', a.put(id, '-1', Buffer.from('x')), 400, 'INVALID_OFFSET'],
      ['exponent offset', a.put(id, '1e3', Buffer.from('x')), 400, 'INVALID_OFFSET'],
      ['huge offset', a.put(id, '99999999999999999999', Buffer.from('x')), 400, 'INVALID_OFFSET'],
      ['offset conflict', a.put(id, 5, Buffer.from('x')), 409, 'OFFSET_MISMATCH'],
      ['chunk past the size', a.put(id, 0, Buffer.alloc(11)), 413, 'SIZE_EXCEEDED'],
      [
        'MD5 mismatch',
        a.put(id, 0, Buffer.from('x'), { 'Content-MD5': md5b64(Buffer.from('y')) }),
        460,
        'CHECKSUM_MISMATCH',
      ],
      ['malformed MD5', a.put(id, 0, Buffer.from('x'), { 'Content-MD5': 'short' }), 400, 'INVALID_REQUEST'],
      [
        'unknown algorithm',
        a.put(id, 0, Buffer.from('x'), { 'Upload-Checksum': 'whirlpool AAAA' }),
        400,
        'UNSUPPORTED_CHECKSUM_ALGORITHM',
      ],
      [
        'checksum not base64',
        a.put(id, 0, Buffer.from('x'), { 'Upload-Checksum': 'sha1 not-base64!' }),
        400,
        'INVALID_REQUEST',
      ],
      ['status of nothing', a.call('/uploads/nope'), 404, 'UPLOAD_NOT_FOUND'],
      ['refused 403', a.start({ totalSize: 1 }, { 'x-user': 'blocked' }), 403, 'FORBIDDEN'],
      ['refused 401', a.start({ totalSize: 1 }, { 'x-user': 'nobody' }), 401, 'UNAUTHORIZED'],
      ['refused chunk', a.put(id, 0, Buffer.from('x'), { 'x-user': 'nobody' }), 401, 'UNAUTHORIZED'],
    ]);
    // After the chunks, not beside them: a complete asks the chunk holding the upload's lock to let go, so a racing
    // chunk could end as 409 UPLOAD_INTERRUPTED instead of the error this test is about.
    await expectAll([
      ['complete too early', a.call(`/uploads/${id}/complete`, { method: 'POST' }), 409, 'UPLOAD_INCOMPLETE'],
    ]);
    // Nothing of the failed chunks was kept.
    expect((await a.call(`/uploads/${id}`)).json.uploadedBytes).toBe(0);
  });

  it('answers malformed create bodies alike, whichever parser saw them first', async () => {
    await expectAll([
      ['truncated JSON', json('{"totalSize":'), 400, 'INVALID_REQUEST'],
      ['JSON array', json('[1]'), 400, 'INVALID_REQUEST'],
      ['JSON null', json('null'), 400, 'INVALID_REQUEST'],
      ['JSON string', json('"x"'), 400, 'INVALID_REQUEST'],
      ['empty JSON body', json(''), 400, 'INVALID_REQUEST'],
      ['__proto__ key', json('{"__proto__":{"x":1},"totalSize":1}'), 400, 'INVALID_REQUEST'],
      ['escaped __proto__ key', json('{"totalSize":1,"metadata":{"\\u005f_proto__":{}}}'), 400, 'INVALID_REQUEST'],
      ['constructor.prototype', json('{"totalSize":1,"constructor":{"prototype":{"x":1}}}'), 400, 'INVALID_REQUEST'],
      // Fastify refuses these while parsing, before any hook: so does every platform (403 would tell otherwise).
      [
        'before authorize',
        json('{"__proto__":{}}', 'application/json; charset=utf-8', { 'x-user': 'blocked' }),
        400,
        'INVALID_REQUEST',
      ],
      ['empty, before authorize', json('', 'application/json', { 'x-user': 'blocked' }), 400, 'INVALID_REQUEST'],
      ['text body', json('hello', 'text/plain'), 400, 'INVALID_REQUEST'],
      ['octet body', json('{"totalSize":1}', 'application/octet-stream'), 400, 'INVALID_REQUEST'],
      ['unknown type', json('{"totalSize":1}', 'application/x-unknown'), 400, 'INVALID_REQUEST'],
      ['metadata not an object', a.start({ totalSize: 1, metadata: 'x' }), 400, 'INVALID_METADATA'],
      ['nested metadata', a.start({ totalSize: 1, metadata: { a: { b: 1 } } }), 400, 'INVALID_METADATA'],
      ['reserved metadata', a.start({ totalSize: 1, metadata: { 'valiblob:owner': 'x' } }), 400, 'INVALID_METADATA'],
      ['header injection', a.start({ totalSize: 1, contentType: 'text/plain\r\nX-Evil: 1' }), 400, 'INVALID_REQUEST'],
      ['bad conflict', a.start({ totalSize: 1, conflict: 'maybe' }), 400, 'INVALID_REQUEST'],
    ]);
  });

  it('refuses a JSON body over the platform limit with 413 SIZE_EXCEEDED', async () => {
    const big = JSON.stringify({ totalSize: 1, metadata: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    await expectAll([['2 MiB of JSON', json(big), 413, 'SIZE_EXCEEDED']]);
  });

  it('refuses chunk bodies of other types with 415, even ones the platform would parse', async () => {
    const id = (await a.start({ totalSize: 10 })).json.uploadId as string;
    const typed = (type: string, body = 'x') => a.put(id, 0, Buffer.from(body), { 'Content-Type': type });
    await expectAll([
      ['invalid JSON', typed('application/json'), 415, 'UNSUPPORTED_CONTENT_TYPE'],
      ['valid JSON', typed('application/json', '{"a":1}'), 415, 'UNSUPPORTED_CONTENT_TYPE'],
      ['text', typed('text/plain'), 415, 'UNSUPPORTED_CONTENT_TYPE'],
      ['form', typed('application/x-www-form-urlencoded', 'a=1'), 415, 'UNSUPPORTED_CONTENT_TYPE'],
      ['unknown', typed('image/png'), 415, 'UNSUPPORTED_CONTENT_TYPE'],
    ]);
    // None of it was written; a right chunk still goes in at 0.
    expect((await a.put(id, 0, Buffer.from('0123456789'))).status).toBe(200);
  });

  it('answers unknown routes under the mounts with 404, whatever body they carry', async () => {
    const id = (await a.start({ totalSize: 10 })).json.uploadId as string;
    const octets = { 'Content-Type': 'application/octet-stream' };
    const unknown: Array<[string, string, Record<string, string>, string?]> = [
      ['PUT', `/uploads/${id}/chunks`, {}, 'x'],
      ['PUT', `/uploads/${id}/chunks`, octets, 'x'],
      ['POST', `/uploads/${id}/nothing`, { 'Content-Type': 'application/x-unknown' }, 'x'],
      ['PATCH', '/uploads', octets, 'x'],
      ['POST', '/blobs/a.txt', {}, 'x'],
    ];
    const seen = [];
    for (const [method, path, headers, body] of unknown) {
      seen.push([method, path, (await a.call(path, { method, headers, body })).status]);
    }
    expect(seen).toEqual(unknown.map(([method, path]) => [method, path, 404]));
  });
});
