import { PLATFORMS, Platform, startTusApp, TusTestApp } from '../tus/tus-app';
import { sha256, testBytes, waitFor } from '../tus/tus-http';
import { DraftClient, draftClient, DraftResponse, header, INTEROP, problem, problemType } from './rufh-http';
import { openRequest, send, sfItem, sha256Field, uploadLimit, withApp } from './rufh-http';

// Conformance of ValiBlob's tus endpoint to draft-ietf-httpbis-resumable-upload (editor's copy, interop version 8)
// and to notes/rufh-contract.md: creation, offset retrieval, limits, cancellation, 104, interop versions. Appends,
// problems, digests and interruptions are in rufh-conformance-append.e2e.spec.ts.
const MAX = 1024 * 1024;
const EXPIRY_S = 3600;
const only104 = (res: DraftResponse) => res.interim.filter((i) => i.status === 104);

describe.each(PLATFORMS)('RUFH interop 8: creation, offset retrieval, limits, cancellation on %s', (platform) => {
  let t: TusTestApp;
  let c: DraftClient;
  beforeAll(async () => {
    t = await startTusApp(platform, { maxUploadSize: MAX, sessionExpiration: EXPIRY_S * 1000 });
    c = draftClient(t.endpoint);
  });
  afterAll(async () => t.close());

  it('§4.2 creation ?0: 201, Location + Upload-Limit (MUST), Upload-Complete ?0, Upload-Offset/-Length', async () => {
    const res = await c.post(false, { 'Upload-Length': '10' }, Buffer.from('abcd'));
    expect(res.status).toBe(201);
    expect(header(res, 'location')).toBeTruthy();
    expect(sfItem(header(res, 'upload-complete'))).toBe(false);
    expect(sfItem(header(res, 'upload-offset'))).toBe(4);
    expect(sfItem(header(res, 'upload-length'))).toBe(10);
    expect(uploadLimit(res)).toMatchObject({ 'max-size': MAX });
  });

  it('§4.2 App.B one 104: Location, Upload-Limit, Upload-Draft-Interop-Version, same Location (MUST)', async () => {
    const res = await c.post(false, { 'Upload-Length': '10' });
    const interim = only104(res);
    expect(interim).toHaveLength(1);
    expect(interim[0].headers['upload-draft-interop-version']).toBe(String(INTEROP));
    expect(interim[0].headers.location).toBeTruthy();
    expect(interim[0].headers.location).toBe(header(res, 'location'));
    expect(uploadLimit(interim[0])).toMatchObject({ 'max-size': MAX });
  });

  it('§4.2 creation ?1 with the whole body: 200, Upload-Complete ?1, bytes stored byte-exact', async () => {
    const data = testBytes(300 * 1024, 11);
    const res = await c.post(true, { 'Content-Disposition': 'inline; filename="a b.bin"' }, data);
    expect(res.status).toBe(200);
    expect(sfItem(header(res, 'upload-complete'))).toBe(true);
    expect(sfItem(header(res, 'upload-offset'))).toBe(data.length);
    expect(sfItem(header(res, 'upload-length'))).toBe(data.length);
    expect(header(res, 'repr-digest')).toBe(sha256Field(data));
    expect(header(res, 'content-type')).toMatch(/^application\/json/);
    expect((JSON.parse(res.body) as { path: string }).path).toMatch(/a b\.bin$/);
    const url = c.abs(only104(res)[0].headers.location);
    expect(sha256(await c.bytes(url))).toBe(sha256(data));
    const state = await c.head(url);
    expect(sfItem(header(state, 'upload-complete'))).toBe(true);
    expect(sfItem(header(state, 'upload-offset'))).toBe(data.length);
  });

  // docs/rufh.md + contract update: Express without rawBody refuses the types its parsers read with 415, nothing else.
  it('§4.2 a creation body of any media type is stored byte-exact, its Content-Type recorded (contract)', async () => {
    const data = testBytes(2000, 12);
    const types = ['text/plain', 'application/json', 'application/x-www-form-urlencoded', 'image/png'];
    const outcomes: string[] = [];
    for (const type of types) {
      const res = await send(t.endpoint, 'POST', { ...c.headers, 'Upload-Complete': '?1', 'Content-Type': type }, data);
      const code = (JSON.parse(res.body) as { code?: string }).code;
      if (res.status !== 200) outcomes.push(`${type}: ${res.status} ${code}`);
      if (res.status !== 200) continue;
      const stored = sha256(await c.bytes(c.abs(only104(res)[0].headers.location))) === sha256(data);
      const recorded = (JSON.parse(res.body) as { contentType: string }).contentType === type;
      outcomes.push(`${type}: 200${stored && recorded ? '' : ` ${res.body.slice(0, 100)}`}`);
    }
    // Express's parsers read these first: bytes that are not JSON fail its JSON parser (400), a form is read (415).
    const refused: Record<string, string> =
      platform === 'express'
        ? {
            'application/json': '400 INVALID_REQUEST',
            'application/x-www-form-urlencoded': '415 UNSUPPORTED_CONTENT_TYPE',
          }
        : {};
    expect(outcomes).toEqual(types.map((x) => `${x}: ${refused[x] ?? 200}`));
  });

  it('§4.2 the completing 200 carries the completed upload (the REST session view)', async () => {
    const data = Buffer.from('json body');
    const res = await c.post(true, {}, data);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'Complete', totalSize: data.length, checksum: sha256(data) });
  });

  it('§5 a 104 does not replace 100 (Continue) for a request expecting it (MUST NOT omit the 100)', async () => {
    const expecting = { ...c.headers, 'Upload-Complete': '?0', 'Content-Length': '3', Expect: '100-continue' };
    const open = openRequest(t.endpoint, 'POST', expecting);
    await waitFor(async () => open.interim.some((i) => i.status === 100), 5000);
    open.end(Buffer.from('abc'));
    const res = (await open.response)!;
    expect(res.status).toBe(201);
    expect(sfItem(header(res, 'upload-offset'))).toBe(3);
    expect(only104(res)).toHaveLength(1);
  });

  it('§4.2 creation ?1 with empty content uploads an empty representation', async () => {
    const res = await c.post(true);
    expect(res.status).toBe(200);
    expect(sfItem(header(res, 'upload-complete'))).toBe(true);
    const url = c.abs(only104(res)[0].headers.location);
    expect((await c.bytes(url)).length).toBe(0);
    expect(sfItem(header(await c.head(url), 'upload-length'))).toBe(0);
  });

  it('§4.1.3 creation: Upload-Length != ?1 + Content-Length: 400 inconsistent-upload-length (MUST match)', async () => {
    const res = await c.post(true, { 'Upload-Length': '10' }, Buffer.from('12345'));
    const inconsistent = { type: problemType('inconsistent-upload-length'), status: 400, code: 'INCONSISTENT_LENGTH' };
    expect([res.status, problem(res)]).toEqual([400, expect.objectContaining(inconsistent)]);
  });

  it('§4.1.2 malformed Upload-Complete ignored (MUST), so no creation: 400 INVALID_REQUEST, no 104', async () => {
    for (const value of ['true', '1', undefined]) {
      const res = await c.post(null, value === undefined ? {} : { 'Upload-Complete': value });
      expect(res.status).toBe(400);
      expect(problem(res).code).toBe('INVALID_REQUEST');
      expect(only104(res)).toEqual([]);
      expect(header(res, 'location')).toBeUndefined();
    }
  });

  it('§4.3 HEAD: Upload-Offset, -Complete, -Length, -Limit (MUST), Cache-Control no-store (SHOULD)', async () => {
    const { url } = await c.create({ 'Upload-Length': '10' }, Buffer.from('abc'));
    const res = await c.head(url);
    expect(res.status).toBe(204);
    expect(sfItem(header(res, 'upload-offset'))).toBe(3);
    expect(sfItem(header(res, 'upload-complete'))).toBe(false);
    expect(sfItem(header(res, 'upload-length'))).toBe(10);
    expect(header(res, 'cache-control')).toBe('no-store');
    const limit = uploadLimit(res)!;
    expect(limit['max-size']).toBe(MAX);
    expect(limit['max-age']).toBeGreaterThan(0);
    expect(limit['max-age']).toBeLessThanOrEqual(EXPIRY_S);
    expect(Object.values(limit).every((v) => Number.isInteger(v))).toBe(true);
  });

  it('§4.3 no Upload-Length until a valid one is supplied (MUST; §4.1.3 others ignored); §4.4 records it', async () => {
    for (const invalid of ['abc', '1.5', '-1', '?1']) {
      const { url: ignored } = await c.create({ 'Upload-Length': invalid });
      expect(header(await c.head(ignored), 'upload-length')).toBeUndefined();
    }
    const { url } = await c.create();
    expect(header(await c.head(url), 'upload-length')).toBeUndefined();
    const res = await c.patch(url, 0, Buffer.from('xy'), false, { 'Upload-Length': '20' });
    expect(res.status).toBe(204);
    expect(sfItem(header(await c.head(url), 'upload-length'))).toBe(20);
    const { url: url2 } = await c.create();
    expect((await c.patch(url2, 0, Buffer.from('abc'), false)).status).toBe(204);
    expect((await c.patch(url2, 3, Buffer.from('defg'), true)).status).toBe(200);
    const done = await c.head(url2);
    expect(sfItem(header(done, 'upload-length'))).toBe(7);
    expect(sfItem(header(done, 'upload-complete'))).toBe(true);
  });

  it('§4.3 HEAD of an unknown upload resource: 404', async () => {
    expect((await c.head(`${t.endpoint}/does-not-exist`)).status).toBe(404);
  });

  it('§4.1.4 OPTIONS: Accept-Patch includes application/partial-upload (MUST), Upload-Limit lists limits', async () => {
    for (const headers of [{}, c.headers]) {
      const res = await send(t.endpoint, 'OPTIONS', headers);
      expect(res.status).toBeLessThan(300);
      const accept = (header(res, 'accept-patch') ?? '').split(',').map((s) => s.trim());
      expect(accept).toContain('application/partial-upload');
      expect(uploadLimit(res)).toEqual({ 'max-size': MAX, 'min-size': 0, 'max-age': EXPIRY_S });
    }
  });

  it('§4.1.4 413 on a creation over max-size carries Upload-Limit (MUST)', async () => {
    const res = await c.post(false, { 'Upload-Length': String(MAX + 1) });
    expect(res.status).toBe(413);
    expect(uploadLimit(res)).toMatchObject({ 'max-size': MAX });
    expect(problem(res).code).toBe('SIZE_EXCEEDED');
  });

  it('§4.1.4 413 on an append announcing a length over max-size carries Upload-Limit (MUST)', async () => {
    const { url } = await c.create();
    const res = await c.patch(url, 0, Buffer.alloc(0), false, { 'Upload-Length': String(MAX + 1) });
    expect(res.status).toBe(413);
    expect(uploadLimit(res)).toMatchObject({ 'max-size': MAX });
  });

  it('§4.5 DELETE: 204; afterwards HEAD 410/404 and appends are rejected', async () => {
    const { url } = await c.create({ 'Upload-Length': '10' }, Buffer.from('abc'));
    expect((await c.del(url)).status).toBe(204);
    expect([404, 410]).toContain((await c.head(url)).status);
    expect([404, 410]).toContain((await c.patch(url, 3, Buffer.from('d'), false)).status);
  });

  it('§4.5 DELETE of a completed upload: 400 UPLOAD_COMPLETE (contract), bytes kept', async () => {
    const res = await c.post(true, {}, Buffer.from('done'));
    const url = c.abs(only104(res)[0].headers.location);
    const del = await c.del(url);
    expect(del.status).toBe(400);
    expect(problem(del).code).toBe('UPLOAD_COMPLETE');
    expect((await c.bytes(url)).toString()).toBe('done');
  });

  it('App.B no 104 without Upload-Draft-Interop-Version (MUST NOT); tus requests still get tus answers', async () => {
    const tus = await send(t.endpoint, 'POST', { 'Tus-Resumable': '1.0.0', 'Upload-Length': '3' }, Buffer.alloc(0));
    expect(tus.status).toBe(201);
    expect(tus.interim).toEqual([]);
    expect(header(tus, 'tus-resumable')).toBe('1.0.0');
    expect(header(tus, 'upload-draft-interop-version')).toBeUndefined();
    const url = c.abs(header(tus, 'location'));
    const patch = await send(
      url,
      'PATCH',
      { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      Buffer.from('abc'),
    );
    expect(patch.status).toBe(204);
    expect(header(patch, 'tus-resumable')).toBe('1.0.0');
    expect((await c.bytes(url)).toString()).toBe('abc');
    const bare = await send(t.endpoint, 'POST', { 'Upload-Complete': '?0', 'Upload-Length': '3' }, Buffer.alloc(0));
    expect(bare.interim).toEqual([]);
    expect(bare.status).toBe(412);
  });
});

describe.each(PLATFORMS)('RUFH interop versions and options on %s', (platform: Platform) => {
  let t: TusTestApp;
  beforeAll(async () => {
    t = await startTusApp(platform, { maxUploadSize: MAX, sessionExpiration: EXPIRY_S * 1000 });
  });
  afterAll(async () => t.close());

  it('App.B unsupported 4, 9, "abc": 400 UNSUPPORTED_INTEROP_VERSION, no 104 (MUST NOT), nothing created', async () => {
    const { url } = await draftClient(t.endpoint).create({ 'Upload-Length': '5' });
    for (const v of ['4', '9', 'abc']) {
      const headers = { 'Upload-Draft-Interop-Version': v, 'Upload-Complete': '?0', 'Upload-Length': '5' };
      const res = await send(t.endpoint, 'POST', headers, Buffer.alloc(0));
      expect(res.status).toBe(400);
      expect(res.interim.filter((i) => i.status === 104)).toEqual([]);
      expect(header(res, 'location')).toBeUndefined();
      expect(header(res, 'tus-resumable')).toBeUndefined();
      expect(problem(res)).toMatchObject({ type: 'about:blank', status: 400, code: 'UNSUPPORTED_INTEROP_VERSION' });
      expect(problem(res)['supported-versions']).toEqual([5, 6, 7, 8]);
      const append = { ...headers, 'Upload-Offset': '0', 'Content-Type': 'application/partial-upload' };
      expect((await send(url, 'PATCH', append, Buffer.from('abc'))).status).toBe(400);
    }
    expect(sfItem(header(await draftClient(t.endpoint).head(url), 'upload-offset'))).toBe(0);
  });

  it('v5 (draft -03): any PATCH content type; no Upload-Limit; completes at the declared length (update)', async () => {
    const c5 = draftClient(t.endpoint, 5);
    const { url, res } = await c5.create({ 'Upload-Length': '12' });
    expect(res.interim.filter((i) => i.status === 104)).toHaveLength(1);
    expect(uploadLimit(res.interim[0])).toBeUndefined();
    expect(uploadLimit(res)).toBeUndefined();
    const headers = { ...c5.headers, 'Upload-Offset': '0', 'Upload-Complete': '?0' };
    const patch = await send(url, 'PATCH', headers, Buffer.from('abc'));
    expect(patch.status).toBe(204);
    expect(header(patch, 'upload-draft-interop-version')).toBe('5');
    // Each typed append must store its bytes (Express without rawBody: 415 for JSON); a 2xx storing nothing loses data.
    const outcomes: string[] = [];
    let at = 3;
    for (const type of ['text/plain', 'application/json']) {
      const typed = { ...headers, 'Upload-Offset': String(at), 'Content-Type': type };
      const answer = await send(url, 'PATCH', typed, Buffer.from('def'));
      outcomes.push(`${type}: ${answer.status} offset ${header(answer, 'upload-offset')}`);
      at = Number(sfItem(header(await c5.head(url), 'upload-offset')));
    }
    const json = platform === 'express' ? 'application/json: 415 offset undefined' : 'application/json: 204 offset 9';
    expect(outcomes).toEqual(['text/plain: 204 offset 6', json]);
    const last = await send(url, 'PATCH', { ...headers, 'Upload-Offset': String(at) }, Buffer.alloc(12 - at, 7));
    expect([last.status, header(last, 'upload-complete')]).toEqual([200, '?1']);
    expect(uploadLimit(await c5.head(url))).toBeUndefined();
  });

  it('v6 (drafts -04/-05): Upload-Limit uses expires instead of max-age; v7 uses max-age', async () => {
    for (const [v, key, absent] of [
      [6, 'expires', 'max-age'],
      [7, 'max-age', 'expires'],
    ] as const) {
      const cv = draftClient(t.endpoint, v);
      const { url, res } = await cv.create({ 'Upload-Length': '6' });
      expect(uploadLimit(res.interim.find((i) => i.status === 104)!)).toMatchObject({ 'max-size': MAX });
      const limit = uploadLimit(await cv.head(url))!;
      expect(Number.isInteger(limit[key])).toBe(true);
      expect(limit[absent]).toBeUndefined();
      const wrongType = { ...cv.headers, 'Upload-Offset': '0', 'Upload-Complete': '?0', 'Content-Type': 'text/plain' };
      expect((await send(url, 'PATCH', wrongType, Buffer.from('a'))).status).toBe(415);
    }
  });

  it('tus.ietfInterimResponses false: creation still works, never a 104', async () => {
    await withApp(platform, { tus: { ietfInterimResponses: false } }, async (off) => {
      expect((await draftClient(off.endpoint).create({ 'Upload-Length': '3' })).res.interim).toEqual([]);
    });
  });

  it('tus.ietfDraft false: interop header ignored (tus answers, no 104, no Accept-Patch partial-upload)', async () => {
    await withApp(platform, { tus: { ietfDraft: false } }, async (off) => {
      const headers = { 'Upload-Draft-Interop-Version': '8', 'Upload-Complete': '?0', 'Upload-Length': '3' };
      const res = await send(off.endpoint, 'POST', headers, Buffer.alloc(0));
      expect(res.status).toBe(412);
      expect(res.interim).toEqual([]);
      expect(header(res, 'tus-version')).toBe('1.0.0');
      expect(header(await send(off.endpoint, 'OPTIONS'), 'accept-patch') ?? '').not.toContain('partial-upload');
    });
  });
});
