import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemorySessionStore } from '../../src/sessions/memory/memory-session.store';
import { UploadEvents } from '../../src/uploads/upload.events';
import { ResumableUploadService } from '../../src/uploads/resumable-upload.service';
import { PLATFORMS, Platform, startTusApp, TusTestApp } from './tus-app';
import { digestB64, OFFSET_STREAM, openPartialPatch, rawRequest, sha256, testBytes, TUS, waitFor } from './tus-http';

/** A store that can be switched off, to prove an outage is 503 and never "not found". */
class SwitchableStore extends MemorySessionStore {
  down = false;
  override async get(uploadId: string) {
    if (this.down) throw new Error('connection refused');
    return super.get(uploadId);
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe.each(PLATFORMS)('tus 1.0 over raw HTTP on %s', (platform: Platform) => {
  let t: TusTestApp;
  const events: string[] = [];

  beforeAll(async () => {
    t = await startTusApp(platform, { maxUploadSize: 1024 * 1024 });
    const bus = t.app.get(UploadEvents);
    bus.on('upload.completed', ({ session }) => void events.push(`completed:${session.uploadId}`));
  });
  afterAll(async () => t.close());

  /** fetch + the header rules every non-OPTIONS answer must follow. */
  async function tus(url: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    const res = await fetch(url, { ...init, headers: { ...TUS, ...(init.headers ?? {}) } });
    expect(res.headers.get('tus-resumable')).toBe('1.0.0');
    if (res.status === 412) expect(res.headers.get('tus-version')).toBe('1.0.0');
    if ((init.method ?? 'GET') === 'HEAD') expect(res.headers.get('cache-control')).toBe('no-store');
    return res;
  }
  const abs = (location: string | null) => new URL(location!, t.endpoint).toString();
  async function create(headers: Record<string, string> = { 'Upload-Length': '10' }): Promise<string> {
    const res = await tus(t.endpoint, { method: 'POST', headers });
    expect(res.status).toBe(201);
    return abs(res.headers.get('location'));
  }
  const patch = (url: string, offset: number, body: Buffer, headers: Record<string, string> = {}) =>
    tus(url, {
      method: 'PATCH',
      headers: { 'Upload-Offset': String(offset), 'Content-Type': OFFSET_STREAM, ...headers },
      body,
    });
  const head = (url: string, headers: Record<string, string> = {}) => tus(url, { method: 'HEAD', headers });

  it('OPTIONS: 204, Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm, no Tus-Resumable', async () => {
    const res = await fetch(t.endpoint, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('tus-version')).toBe('1.0.0');
    expect(res.headers.get('tus-extension')!.split(',')).toEqual(
      expect.arrayContaining([
        'creation',
        'creation-with-upload',
        'creation-defer-length',
        'expiration',
        'checksum',
        'checksum-trailer',
        'termination',
        'concatenation',
      ]),
    );
    expect(res.headers.get('tus-max-size')).toBe(String(1024 * 1024));
    expect(res.headers.get('tus-checksum-algorithm')).toBe('sha1,sha256,md5,crc32');
    expect(res.headers.get('tus-resumable')).toBeNull();
  });

  it('412 + Tus-Version when Tus-Resumable is missing or unsupported, on every method; nothing created', async () => {
    const url = await create();
    for (const [method, target] of [
      ['POST', t.endpoint],
      ['HEAD', url],
      ['PATCH', url],
      ['DELETE', url],
    ] as const) {
      const missing = await fetch(target, {
        method,
        headers: { 'Upload-Length': '5', 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM },
      });
      expect([method, missing.status]).toEqual([method, 412]);
      expect(missing.headers.get('tus-version')).toBe('1.0.0');
      const wrong = await tus(target, { method, headers: { 'Tus-Resumable': '0.2.2', 'Upload-Length': '5' } });
      expect([method, wrong.status]).toEqual([method, 412]);
    }
    expect((await head(url)).status).toBe(200);
  });

  it('POST: 201 + relative Location + Upload-Expires; HEAD echoes length and metadata', async () => {
    const res = await tus(t.endpoint, {
      method: 'POST',
      headers: { 'Upload-Length': '10', 'Upload-Metadata': `filename ${b64('a.txt')},empty` },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toMatch(/^\/files\/[A-Za-z0-9_-]{20,}$/);
    const expires = Date.parse(res.headers.get('upload-expires')!);
    expect(expires).toBeGreaterThan(Date.now());
    const h = await head(abs(res.headers.get('location')));
    expect(h.status).toBe(200);
    expect(h.headers.get('upload-offset')).toBe('0');
    expect(h.headers.get('upload-length')).toBe('10');
    expect(h.headers.get('upload-metadata')).toBe(`filename ${b64('a.txt')},empty`);
    expect(h.headers.get('upload-expires')).not.toBeNull();
  });

  it('POST: 400 for no length, both lengths, bad Upload-Defer-Length or Upload-Length; 413 over the max', async () => {
    const cases: Array<[Record<string, string>, number]> = [
      [{}, 400],
      [{ 'Upload-Length': '5', 'Upload-Defer-Length': '1' }, 400],
      [{ 'Upload-Defer-Length': '2' }, 400],
      [{ 'Upload-Length': '-1' }, 400],
      [{ 'Upload-Length': '1e3' }, 400],
      [{ 'Upload-Length': String(1024 * 1024 + 1) }, 413],
    ];
    for (const [headers, status] of cases) {
      const res = await tus(t.endpoint, { method: 'POST', headers });
      expect([headers, res.status]).toEqual([headers, status]);
      const body = (await res.json()) as { code: unknown };
      expect(typeof body.code).toBe('string');
      if (status === 413) expect(res.headers.get('tus-max-size')).toBe(String(1024 * 1024));
    }
  });

  it('strict Upload-Metadata: 400 for malformed pairs, duplicate keys, bad base64, > tus.maxMetadataSize', async () => {
    for (const bad of [
      'key',
      'k v!',
      `a ${b64('x')},a ${b64('y')}`,
      'has space',
      ` ,`,
      `k ${b64('x')},,`,
      'k YQ',
      `k ${Buffer.from([0xff, 0xfe]).toString('base64')}`,
    ]) {
      const headers =
        bad === 'key'
          ? { 'Upload-Length': '1', 'Upload-Metadata': 'key ===' }
          : { 'Upload-Length': '1', 'Upload-Metadata': bad };
      const res = await tus(t.endpoint, { method: 'POST', headers });
      expect([bad, res.status]).toEqual([bad, 400]);
      expect(((await res.json()) as { code: string }).code).toBe('INVALID_METADATA');
    }
    const big = await tus(t.endpoint, {
      method: 'POST',
      headers: { 'Upload-Length': '1', 'Upload-Metadata': `k ${b64('x'.repeat(4000))}` },
    });
    expect(big.status).toBe(400);
  });

  it('PATCH: 204 + Upload-Offset/-Expires; completes at the length; stored at tus/<id>/<sanitised name>', async () => {
    const res = await tus(t.endpoint, {
      method: 'POST',
      headers: { 'Upload-Length': '10', 'Upload-Metadata': `filename ${b64('../../etc/pa ss?wd')}` },
    });
    const url = abs(res.headers.get('location'));
    const id = url.split('/').pop()!;
    const first = await patch(url, 0, Buffer.from('hello'));
    expect(first.status).toBe(204);
    expect(first.headers.get('upload-offset')).toBe('5');
    expect(first.headers.get('upload-expires')).not.toBeNull();
    const second = await patch(url, 5, Buffer.from('world'));
    expect(second.status).toBe(204);
    expect(second.headers.get('upload-offset')).toBe('10');
    const session = await t.app.get(ResumableUploadService).getSession(id);
    expect(session.status).toBe('Complete');
    expect(session.path).toBe(`tus/${id}/pa ss_wd`);
    expect(await readFile(join(t.root, session.path), 'utf8')).toBe('helloworld');
    expect(events.filter((e) => e === `completed:${id}`)).toHaveLength(1);
    // A retried empty PATCH at the end of a finished upload: 204, and no second completed event.
    const again = await patch(url, 10, Buffer.alloc(0));
    expect(again.status).toBe(204);
    expect(again.headers.get('upload-offset')).toBe('10');
    expect(events.filter((e) => e === `completed:${id}`)).toHaveLength(1);
  });

  it('PATCH errors: 409 (+Upload-Offset), 415, 400 missing offset, 413 past the length, 404 unknown id', async () => {
    const url = await create();
    await patch(url, 0, Buffer.from('abc'));
    const mismatch = await patch(url, 1, Buffer.from('x'));
    expect(mismatch.status).toBe(409);
    expect(mismatch.headers.get('upload-offset')).toBe('3');
    expect(((await mismatch.json()) as { code: string }).code).toBe('OFFSET_MISMATCH');
    const wrongType = await tus(url, {
      method: 'PATCH',
      headers: { 'Upload-Offset': '3', 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(wrongType.status).toBe(415);
    const noType = await tus(url, { method: 'PATCH', headers: { 'Upload-Offset': '3' }, body: Buffer.from('x') });
    expect(noType.status).toBe(415);
    const odd = await tus(url, {
      method: 'PATCH',
      headers: { 'Upload-Offset': '3', 'Content-Type': 'text/xml' },
      body: '<a/>',
    });
    expect(odd.status).toBe(415);
    const noOffset = await tus(url, {
      method: 'PATCH',
      headers: { 'Content-Type': OFFSET_STREAM },
      body: Buffer.from('x'),
    });
    expect(noOffset.status).toBe(400);
    expect(((await noOffset.json()) as { code: string }).code).toBe('INVALID_OFFSET');
    const tooMuch = await patch(url, 3, Buffer.alloc(8));
    expect(tooMuch.status).toBe(413);
    expect((await head(url)).headers.get('upload-offset')).toBe('3');
    const unknown = await patch(`${t.endpoint}/doesNotExist123`, 0, Buffer.from('x'));
    expect(unknown.status).toBe(404);
    const unknownHead = await head(`${t.endpoint}/doesNotExist123`);
    expect(unknownHead.status).toBe(404);
    expect(unknownHead.headers.get('upload-offset')).toBeNull();
  });

  it('creation-with-upload: 201 with Upload-Offset; Upload-Length 0 completes at POST', async () => {
    const res = await tus(t.endpoint, {
      method: 'POST',
      headers: { 'Upload-Length': '10', 'Content-Type': OFFSET_STREAM },
      body: Buffer.from('0123456'),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('upload-offset')).toBe('7');
    expect((await head(abs(res.headers.get('location')))).headers.get('upload-offset')).toBe('7');
    const empty = await tus(t.endpoint, { method: 'POST', headers: { 'Upload-Length': '0' } });
    expect(empty.status).toBe(201);
    const id = empty.headers.get('location')!.split('/').pop();
    expect(events).toContain(`completed:${id}`);
    expect(empty.headers.get('upload-expires')).toBeNull();
  });

  it('creation-defer-length: HEAD: Upload-Defer-Length: 1 until a PATCH sets Upload-Length; then fixed', async () => {
    const url = await create({ 'Upload-Defer-Length': '1' });
    let h = await head(url);
    expect(h.headers.get('upload-defer-length')).toBe('1');
    expect(h.headers.get('upload-length')).toBeNull();
    expect((await patch(url, 0, Buffer.from('abcd'))).status).toBe(204);
    const last = await patch(url, 4, Buffer.from('ef'), { 'Upload-Length': '6' });
    expect(last.status).toBe(204);
    h = await head(url);
    expect(h.headers.get('upload-length')).toBe('6');
    expect(h.headers.get('upload-defer-length')).toBeNull();
    const other = await create();
    const change = await patch(other, 0, Buffer.from('a'), { 'Upload-Length': '11' });
    expect(change.status).toBe(400);
  });

  it.each(['sha1', 'sha256', 'md5', 'crc32'] as const)(
    'checksum %s: match → 204; mismatch → 460 and the chunk is discarded',
    async (algorithm) => {
      const url = await create();
      const good = Buffer.from('hello');
      const ok = await patch(url, 0, good, { 'Upload-Checksum': `${algorithm} ${digestB64(algorithm, good)}` });
      expect(ok.status).toBe(204);
      const bad = await patch(url, 5, Buffer.from('world'), {
        'Upload-Checksum': `${algorithm} ${digestB64(algorithm, Buffer.from('WORLD'))}`,
      });
      expect(bad.status).toBe(460);
      expect(((await bad.json()) as { code: string }).code).toBe('CHECKSUM_MISMATCH');
      expect((await head(url)).headers.get('upload-offset')).toBe('5');
    },
  );

  it('checksum: 400 for an unsupported algorithm or a malformed header, nothing stored', async () => {
    const url = await create();
    const unsupported = await patch(url, 0, Buffer.from('hello'), {
      'Upload-Checksum': `sha512 ${b64('x'.repeat(64))}`,
    });
    expect(unsupported.status).toBe(400);
    expect(((await unsupported.json()) as { code: string }).code).toBe('UNSUPPORTED_CHECKSUM_ALGORITHM');
    const malformed = await patch(url, 0, Buffer.from('hello'), { 'Upload-Checksum': 'sha1' });
    expect(malformed.status).toBe(400);
    expect((await head(url)).headers.get('upload-offset')).toBe('0');
  });

  it('checksum-trailer: a chunked body with an Upload-Checksum trailer is verified after the body', async () => {
    const url = await create();
    const body = Buffer.from('hello');
    const ok = await rawRequest(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM, Trailer: 'Upload-Checksum' },
      body,
      chunked: true,
      trailers: { 'Upload-Checksum': `sha1 ${digestB64('sha1', body)}` },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers['upload-offset']).toBe('5');
    const bad = await rawRequest(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '5', 'Content-Type': OFFSET_STREAM, Trailer: 'Upload-Checksum' },
      body: Buffer.from('world'),
      chunked: true,
      trailers: { 'Upload-Checksum': `sha1 ${digestB64('sha1', Buffer.from('other'))}` },
    });
    expect(bad.status).toBe(460);
    const missing = await rawRequest(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '5', 'Content-Type': OFFSET_STREAM, Trailer: 'Upload-Checksum' },
      body: Buffer.from('world'),
      chunked: true,
    });
    expect(missing.status).toBe(400);
    expect((await head(url)).headers.get('upload-offset')).toBe('5');
  });

  it('termination: DELETE 204, then 410 on HEAD/PATCH/DELETE; finished: 400 (allowTerminateFinished off)', async () => {
    const url = await create();
    await patch(url, 0, Buffer.from('abc'));
    const del = await tus(url, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect((await head(url)).status).toBe(410);
    expect((await patch(url, 3, Buffer.from('x'))).status).toBe(410);
    expect((await tus(url, { method: 'DELETE' })).status).toBe(410);
    expect((await tus(`${t.endpoint}/noSuchUpload1`, { method: 'DELETE' })).status).toBe(404);
    const done = await create({ 'Upload-Length': '1' });
    await patch(done, 0, Buffer.from('z'));
    expect((await tus(done, { method: 'DELETE' })).status).toBe(400);
    expect((await head(done)).status).toBe(200);
  });

  it('X-HTTP-Method-Override: POST acting as PATCH, HEAD and DELETE', async () => {
    const url = await create({ 'Upload-Length': '4' });
    const asPatch = await tus(url, {
      method: 'POST',
      headers: { 'X-HTTP-Method-Override': 'PATCH', 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM },
      body: Buffer.from('ab'),
    });
    expect(asPatch.status).toBe(204);
    expect(asPatch.headers.get('upload-offset')).toBe('2');
    const asHead = await tus(url, { method: 'POST', headers: { 'X-HTTP-Method-Override': 'HEAD' } });
    expect(asHead.status).toBe(200);
    expect(asHead.headers.get('upload-offset')).toBe('2');
    const asDelete = await tus(url, { method: 'POST', headers: { 'X-HTTP-Method-Override': 'DELETE' } });
    expect(asDelete.status).toBe(204);
    expect((await head(url)).status).toBe(410);
    const bogus = await tus(url, { method: 'POST', headers: { 'X-HTTP-Method-Override': 'TRACE' } });
    expect(bogus.status).toBe(400);
  });

  it('concatenation: final = ordered partials; HEAD shows Upload-Concat; PATCH final 403; bad finals 400', async () => {
    const a = await create({ 'Upload-Length': '3', 'Upload-Concat': 'partial' });
    const b = await create({ 'Upload-Length': '4', 'Upload-Concat': 'partial' });
    await patch(a, 0, Buffer.from('abc'));
    await patch(b, 0, Buffer.from('defg'));
    expect((await head(a)).headers.get('upload-concat')).toBe('partial');
    const relB = new URL(b).pathname;
    const res = await tus(t.endpoint, {
      method: 'POST',
      headers: { 'Upload-Concat': `final;${a} ${relB}`, 'Upload-Metadata': `filename ${b64('all.txt')}` },
    });
    expect(res.status).toBe(201);
    const final = abs(res.headers.get('location'));
    const h = await head(final);
    expect(h.headers.get('upload-length')).toBe('7');
    expect(h.headers.get('upload-offset')).toBe('7');
    expect(h.headers.get('upload-concat')).toBe(`final;/files/${a.split('/').pop()} ${relB}`);
    const got = await fetch(final);
    expect(await got.text()).toBe('abcdefg');
    const onFinal = await patch(final, 7, Buffer.alloc(0));
    expect(onFinal.status).toBe(403);
    const withLength = await tus(t.endpoint, {
      method: 'POST',
      headers: { 'Upload-Concat': `final;${a}`, 'Upload-Length': '3' },
    });
    expect(withLength.status).toBe(400);
    const unfinished = await create({ 'Upload-Length': '3', 'Upload-Concat': 'partial' });
    expect(
      (await tus(t.endpoint, { method: 'POST', headers: { 'Upload-Concat': `final;${a} ${unfinished}` } })).status,
    ).toBe(400);
    const notPartial = await create({ 'Upload-Length': '1' });
    await patch(notPartial, 0, Buffer.from('q'));
    expect(
      (await tus(t.endpoint, { method: 'POST', headers: { 'Upload-Concat': `final;${notPartial}` } })).status,
    ).toBe(400);
    expect((await tus(t.endpoint, { method: 'POST', headers: { 'Upload-Concat': 'final;' } })).status).toBe(400);
    expect((await tus(t.endpoint, { method: 'POST', headers: { 'Upload-Concat': 'whole' } })).status).toBe(400);
  });

  it('GET streams a completed upload with Range (206/416); an unfinished one is 409', async () => {
    const url = await create({
      'Upload-Length': '10',
      'Upload-Metadata': `filename ${b64('x.bin')},filetype ${b64('text/plain')}`,
    });
    expect((await fetch(url)).status).toBe(409);
    await patch(url, 0, Buffer.from('0123456789'));
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('text/plain');
    expect(whole.headers.get('content-disposition')).toContain('x.bin');
    expect(await whole.text()).toBe('0123456789');
    const part = await fetch(url, { headers: { Range: 'bytes=2-5' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(await part.text()).toBe('2345');
    expect((await fetch(url, { headers: { Range: 'bytes=20-' } })).status).toBe(416);
  });

  it('client disconnect mid-PATCH keeps the bytes that arrived; HEAD shows them; resume is byte-exact', async () => {
    const data = testBytes(256 * 1024, 7);
    const url = await create({ 'Upload-Length': String(data.length) });
    const half = 100_000;
    const partial = await openPartialPatch(url, 0, data.length, data.subarray(0, half));
    await partial.sent;
    await new Promise((r) => setTimeout(r, 150));
    partial.socket.destroy();
    await waitFor(async () => (await head(url)).headers.get('upload-offset') === String(half));
    const rest = await patch(url, half, data.subarray(half));
    expect(rest.status).toBe(204);
    expect(sha256(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(sha256(data));
  });

  it('a newer request interrupts the holder: holder 400 once its bytes are stored, newcomer 409 + offset', async () => {
    const data = testBytes(64 * 1024, 3);
    const url = await create({ 'Upload-Length': String(data.length) });
    const holder = await openPartialPatch(url, 0, data.length, data.subarray(0, 20_000));
    await holder.sent;
    await new Promise((r) => setTimeout(r, 150));
    const newcomer = await patch(url, 0, data.subarray(0, 10));
    expect(newcomer.status).toBe(409);
    expect(newcomer.headers.get('upload-offset')).toBe('20000');
    const answer = await holder.response;
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer.toLowerCase()).toContain('upload-offset: 20000');
    expect((await patch(url, 20_000, data.subarray(20_000))).status).toBe(204);
    expect(sha256(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(sha256(data));
  });
});

describe.each(PLATFORMS)('tus options and edge statuses on %s', (platform: Platform) => {
  const apps: TusTestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  async function start(
    ...args: Parameters<typeof startTusApp> extends [unknown, ...infer R] ? R : never
  ): Promise<TusTestApp> {
    const app = await startTusApp(platform, ...args);
    apps.push(app);
    return app;
  }
  const post = (endpoint: string, headers: Record<string, string> = {}) =>
    fetch(endpoint, { method: 'POST', headers: { ...TUS, 'Upload-Length': '10', ...headers } });

  it('423 when another request holds the upload past lock.waitMs (release requests off)', async () => {
    const t = await start({ lock: { waitMs: 200, requestRelease: false } });
    const url = new URL((await post(t.endpoint)).headers.get('location')!, t.endpoint).toString();
    const holder = await openPartialPatch(url, 0, 10, Buffer.from('abc'));
    await holder.sent;
    await new Promise((r) => setTimeout(r, 100));
    const blocked = await fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM },
      body: Buffer.from('x'),
    });
    expect(blocked.status).toBe(423);
    expect(((await blocked.json()) as { code: string }).code).toBe('UPLOAD_LOCKED');
    holder.socket.destroy();
  });

  it('410 for an expired unfinished upload; a completed one stays 200', async () => {
    const t = await start({ sessionExpiration: 400 });
    const url = new URL((await post(t.endpoint)).headers.get('location')!, t.endpoint).toString();
    const done = new URL(
      (await post(t.endpoint, { 'Upload-Length': '0' })).headers.get('location')!,
      t.endpoint,
    ).toString();
    await new Promise((r) => setTimeout(r, 600));
    expect((await fetch(url, { method: 'HEAD', headers: TUS })).status).toBe(410);
    expect((await fetch(done, { method: 'HEAD', headers: TUS })).status).toBe(200);
  });

  it('503 (never 404) when the session store is down', async () => {
    const store = new SwitchableStore();
    const t = await start({ sessionStore: store });
    const url = new URL((await post(t.endpoint)).headers.get('location')!, t.endpoint).toString();
    store.down = true;
    const res = await fetch(url, { method: 'HEAD', headers: TUS });
    expect(res.status).toBe(503);
    expect(res.headers.get('tus-resumable')).toBe('1.0.0');
    const p = await fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM },
      body: Buffer.from('x'),
    });
    expect(p.status).toBe(503);
    expect(((await p.json()) as { code: string }).code).toBe('STORE_UNAVAILABLE');
  });

  it('authorize hook + owner binding on every method: another owner gets 404, no credentials 401', async () => {
    const t = await start({
      authorize: ({ request }) => {
        const user = (request as { headers: Record<string, string | undefined> }).headers['x-user'];
        return user ? { ownerId: user } : false;
      },
    });
    expect((await post(t.endpoint)).status).toBe(401);
    const res = await post(t.endpoint, { 'x-user': 'alice' });
    const url = new URL(res.headers.get('location')!, t.endpoint).toString();
    const as = (user: string, method: string, extra: Record<string, string> = {}, body?: Buffer) =>
      fetch(url, { method, headers: { ...TUS, 'x-user': user, ...extra }, body });
    const patchHeaders = { 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM };
    expect((await as('bob', 'HEAD')).status).toBe(404);
    expect((await as('bob', 'PATCH', patchHeaders, Buffer.from('x'))).status).toBe(404);
    expect((await as('bob', 'DELETE')).status).toBe(404);
    expect((await as('bob', 'GET')).status).toBe(404);
    expect((await fetch(url, { method: 'HEAD', headers: TUS })).status).toBe(401);
    expect((await as('alice', 'PATCH', patchHeaders, Buffer.from('0123456789'))).status).toBe(204);
    expect((await as('bob', 'GET')).status).toBe(404);
    expect((await as('alice', 'GET')).status).toBe(200);
    expect((await as('alice', 'HEAD')).status).toBe(200);
  });

  it('Location: absolute with tus.baseUrl; forwarded headers only when trusted; global prefix kept', async () => {
    const based = await start({ tus: { baseUrl: 'https://cdn.example.com/up/files/' } });
    expect((await post(based.endpoint)).headers.get('location')).toMatch(
      /^https:\/\/cdn\.example\.com\/up\/files\/[\w-]+$/,
    );
    const fwd = { 'X-Forwarded-Host': 'public.example.com', 'X-Forwarded-Proto': 'https' };
    const untrusted = await start();
    expect((await post(untrusted.endpoint, fwd)).headers.get('location')).toMatch(/^\/files\/[\w-]+$/);
    const trusted = await start({ tus: { trustForwardedHeaders: true } });
    expect((await post(trusted.endpoint, fwd)).headers.get('location')).toMatch(
      /^https:\/\/public\.example\.com\/files\/[\w-]+$/,
    );
    const evil = await post(trusted.endpoint, { 'X-Forwarded-Host': 'evil.com/x?', 'X-Forwarded-Proto': 'https' });
    expect(evil.headers.get('location')).toMatch(/^\/files\/[\w-]+$/);
    const prefixed = await start({}, { tus: { path: 'tus/files' }, rest: false }, 'api');
    const res = await post(prefixed.endpoint);
    expect(res.headers.get('location')).toMatch(/^\/api\/tus\/files\/[\w-]+$/);
    const head = await fetch(new URL(res.headers.get('location')!, prefixed.origin), { method: 'HEAD', headers: TUS });
    expect(head.status).toBe(200);
  });

  it('tus.naming decides the stored path; OPTIONS 200 when configured', async () => {
    const t = await start({
      tus: {
        naming: ({ uploadId, metadata }) => `inbox/${metadata.user ?? 'anon'}/${uploadId}.bin`,
        optionsStatus200: true,
      },
    });
    const res = await post(t.endpoint, { 'Upload-Length': '2', 'Upload-Metadata': `user ${b64('carol')}` });
    const url = new URL(res.headers.get('location')!, t.endpoint).toString();
    await fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM },
      body: Buffer.from('hi'),
    });
    expect(await readFile(join(t.root, `inbox/carol/${url.split('/').pop()}.bin`), 'utf8')).toBe('hi');
    expect((await fetch(t.endpoint, { method: 'OPTIONS' })).status).toBe(200);
  });

  it('CORS: preflight allows the tus headers; responses expose them; other origins get no CORS headers', async () => {
    const t = await start({ tus: { cors: ['https://app.example.com'] } });
    const pre = await fetch(`${t.endpoint}/someid`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example.com',
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'upload-offset,tus-resumable',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const allowed = pre.headers.get('access-control-allow-headers')!.toLowerCase();
    for (const h of [
      'upload-offset',
      'upload-length',
      'upload-metadata',
      'upload-concat',
      'upload-checksum',
      'upload-defer-length',
      'tus-resumable',
      'x-http-method-override',
      'content-type',
    ]) {
      expect(allowed).toContain(h);
    }
    expect(pre.headers.get('access-control-allow-methods')).toContain('PATCH');
    const res = await post(t.endpoint, { Origin: 'https://app.example.com' });
    const exposed = res.headers.get('access-control-expose-headers')!.toLowerCase();
    for (const h of [
      'upload-offset',
      'location',
      'upload-length',
      'upload-expires',
      'upload-metadata',
      'upload-concat',
      'tus-version',
      'tus-resumable',
    ]) {
      expect(exposed).toContain(h);
    }
    const other = await post(t.endpoint, { Origin: 'https://evil.example.com' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
