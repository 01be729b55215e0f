import { PLATFORMS, startTusApp, TusTestApp } from '../tus/tus-app';
import { sha256, testBytes, waitFor } from '../tus/tus-http';
import { DraftClient, draftClient, header, openRequest, PARTIAL_UPLOAD, problem, problemType } from './rufh-http';
import { send, sfItem, sha256Field, within } from './rufh-http';

// draft-ietf-httpbis-resumable-upload (interop 8) appends: §4.4, §4.1.1, §4.1.3, §7, §10, interruptions, §4.6.
const MAX = 1024 * 1024;
const IDLE_MS = 1500;
const offsetOf = async (c: DraftClient, url: string) => sfItem(header(await c.head(url), 'upload-offset'));
const completeOf = async (c: DraftClient, url: string) => sfItem(header(await c.head(url), 'upload-complete'));

describe.each(PLATFORMS)('RUFH interop 8: upload append on %s', (platform) => {
  let t: TusTestApp;
  let c: DraftClient;
  beforeAll(async () => {
    // A short idle timeout so a stalled body ends within the test; the other cases never idle that long.
    t = await startTusApp(platform, { maxUploadSize: MAX, idleTimeoutMs: IDLE_MS });
    c = draftClient(t.endpoint);
  });
  afterAll(async () => t.close());

  /** Headers of an append whose body is sent by hand (`openRequest`). */
  const appendHeaders = (offset: number, complete: boolean, length: number) => ({
    ...c.headers,
    'Upload-Offset': String(offset),
    'Upload-Complete': complete ? '?1' : '?0',
    'Content-Type': PARTIAL_UPLOAD,
    'Content-Length': String(length),
  });

  /** A completed upload of `data` made with creation ?0 then a ?1 append. */
  async function completed(data: Buffer): Promise<string> {
    const { url } = await c.create({ 'Upload-Length': String(data.length) });
    expect((await c.patch(url, 0, data, true)).status).toBe(200);
    return url;
  }

  it('§4.4 append ?0: 204, Upload-Complete ?0 (MUST), new Upload-Offset; no 104 with Location (MUST NOT)', async () => {
    const { url } = await c.create({ 'Upload-Length': '10' });
    const res = await c.patch(url, 0, Buffer.from('abcd'), false);
    expect([res.status, header(res, 'upload-complete'), sfItem(header(res, 'upload-offset'))]).toEqual([204, '?0', 4]);
    expect(res.interim.filter((i) => i.headers.location !== undefined)).toEqual([]);
    // The same append sent as POST + X-HTTP-Method-Override: PATCH (contract).
    const override = { ...appendHeaders(4, false, 2), 'X-HTTP-Method-Override': 'PATCH' };
    const viaPost = await send(url, 'POST', override, Buffer.from('ef'));
    expect([viaPost.status, header(viaPost, 'upload-offset'), await offsetOf(c, url)]).toEqual([204, '6', 6]);
  });

  it('§4.4 append ?1 completes: 200 with Upload-Complete ?1 (MUST); GET returns the bytes byte-exact', async () => {
    const data = testBytes(200 * 1024, 5);
    const { url } = await c.create({ 'Upload-Length': String(data.length) }, data.subarray(0, 70_000));
    const res = await c.patch(url, 70_000, data.subarray(70_000), true);
    expect(res.status).toBe(200);
    expect(sfItem(header(res, 'upload-complete'))).toBe(true);
    expect(header(res, 'repr-digest')).toBe(sha256Field(data));
    expect(sha256(await c.bytes(url))).toBe(sha256(data));
    expect(await completeOf(c, url)).toBe(true);
  });

  it('§4.4 an empty ?1 append completes an upload whose bytes all arrived', async () => {
    const { url } = await c.create({}, Buffer.from('hello'));
    const res = await c.patch(url, 5, Buffer.alloc(0), true);
    expect(res.status).toBe(200);
    expect(sfItem(header(res, 'upload-complete'))).toBe(true);
    expect((await c.bytes(url)).toString()).toBe('hello');
  });

  it('§4.1.3 offset == length with ?0 is not complete (only Upload-Complete ?1 completes)', async () => {
    const { url } = await c.create({ 'Upload-Length': '6' }, Buffer.from('abc'));
    expect((await c.patch(url, 3, Buffer.from('def'), false)).status).toBe(204);
    expect(await completeOf(c, url)).toBe(false);
    expect((await fetch(url)).status).not.toBe(200);
    expect((await c.patch(url, 6, Buffer.alloc(0), true)).status).toBe(200);
    expect((await c.bytes(url)).toString()).toBe('abcdef');
  });

  it('§4.4 409 with Upload-Offset on a mismatching offset (MUST), before length checks; §7.1 members', async () => {
    const { url } = await c.create({ 'Upload-Length': '10' }, Buffer.from('abcde'));
    for (const provided of [3, 7]) {
      // Upload-Length disagrees too: the offset is checked first (contract), the 409 is unconditional (§4.4).
      const res = await c.patch(url, provided, Buffer.from('xy'), false, { 'Upload-Length': '99' });
      expect(res.status).toBe(409);
      expect(sfItem(header(res, 'upload-offset'))).toBe(5);
      expect(sfItem(header(res, 'upload-complete'))).toBe(false);
      expect(problem(res)).toMatchObject({
        type: problemType('mismatching-upload-offset'),
        status: 409,
        code: 'OFFSET_MISMATCH',
        'expected-offset': 5,
        'provided-offset': provided,
      });
    }
    expect(await offsetOf(c, url)).toBe(5);
  });

  it('§4.4 non-empty append to a completed upload: 400 inconsistent-upload-length, unmodified (MUST)', async () => {
    const url = await completed(Buffer.from('final'));
    for (const complete of [false, true]) {
      const res = await c.patch(url, 5, Buffer.from('more'), complete);
      expect(res.status).toBe(400);
      expect(problem(res)).toMatchObject({
        type: problemType('inconsistent-upload-length'),
        code: 'INCONSISTENT_LENGTH',
      });
    }
    expect((await c.bytes(url)).toString()).toBe('final');
    expect(await offsetOf(c, url)).toBe(5);
  });

  it('§4.4 empty append to a completed upload: rejected (MUST), §7.2 completed-upload, not modified', async () => {
    const url = await completed(Buffer.from('final'));
    for (const complete of [true, false]) {
      const res = await c.patch(url, 5, Buffer.alloc(0), complete);
      expect(res.status).toBe(400);
      expect(problem(res)).toMatchObject({ type: problemType('completed-upload'), code: 'UPLOAD_COMPLETE' });
    }
    expect((await c.bytes(url)).toString()).toBe('final');
    expect(await completeOf(c, url)).toBe(true);
  });

  it('§4.1.3 a later Upload-Length unlike the recorded one: 400 inconsistent-upload-length (MUST match)', async () => {
    const { url } = await c.create({ 'Upload-Length': '10' }, Buffer.from('ab'));
    const res = await c.patch(url, 2, Buffer.from('cd'), false, { 'Upload-Length': '12' });
    expect(res.status).toBe(400);
    expect(problem(res)).toMatchObject({
      type: problemType('inconsistent-upload-length'),
      code: 'INCONSISTENT_LENGTH',
    });
    const head = await c.head(url);
    expect(sfItem(header(head, 'upload-length'))).toBe(10);
    expect(sfItem(header(head, 'upload-offset'))).toBe(2);
  });

  it('§4.1.3 append ?1 with offset + Content-Length != length: 400 inconsistent (MUST match)', async () => {
    const { url } = await c.create({ 'Upload-Length': '10' }, Buffer.from('ab'));
    const short = await c.patch(url, 2, Buffer.from('cd'), true);
    expect(short.status).toBe(400);
    expect(problem(short).type).toBe(problemType('inconsistent-upload-length'));
    // Whether the rejected request kept its bytes is not specified: continue from the reported offset.
    const at = Number(await offsetOf(c, url));
    const both = await c.patch(url, at, Buffer.alloc(10 - at, 1), true, { 'Upload-Length': '11' });
    expect(both.status).toBe(400);
    expect(problem(both).type).toBe(problemType('inconsistent-upload-length'));
    expect(await completeOf(c, url)).toBe(false);
    expect((await c.patch(url, Number(await offsetOf(c, url)), Buffer.alloc(0), false)).status).toBe(204);
  });

  it('§4.4 a chunked body running past the known length: rejected, upload deactivated (MUST)', async () => {
    const { url } = await c.create({ 'Upload-Length': '10' }, Buffer.from('abc'));
    const res = await c.patch(url, 3, Buffer.from('0123456789'), false, {}, true);
    expect(res.status).toBe(400);
    expect(problem(res).type).toBe(problemType('inconsistent-upload-length'));
    const after = await c.head(url);
    expect(after.status).toBe(410);
    expect((await c.patch(url, 10, Buffer.alloc(0), true)).status).toBe(410);
  });

  it('§4.4 a Content-Length past the known length: rejected, the offset never exceeds the length (MUST)', async () => {
    const { url } = await c.create({ 'Upload-Length': '10' }, Buffer.from('abc'));
    const res = await c.patch(url, 3, Buffer.from('0123456789'), false);
    expect(res.status).toBe(400);
    expect(problem(res).type).toBe(problemType('inconsistent-upload-length'));
    const after = await c.head(url);
    if (after.status !== 410) expect(sfItem(header(after, 'upload-offset'))).toBeLessThanOrEqual(10);
    expect((await fetch(url)).status).not.toBe(200);
  });

  it('§4.1.1 the offset never decreases across appends, HEADs and rejected appends (MUST NOT decrease)', async () => {
    const { url } = await c.create({ 'Upload-Length': '50' });
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const at = Number(await offsetOf(c, url));
      seen.push(at);
      await c.patch(url, at, Buffer.from('0123456789'), false);
      await c.patch(url, Math.max(0, at - 5), Buffer.from('zz'), false);
      await c.patch(url, at + 10, Buffer.from('zz'), false, { 'Content-Digest': sha256Field(Buffer.from('no')) });
      seen.push(Number(await offsetOf(c, url)));
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen[seen.length - 1]).toBe(40);
  });

  it('§4.4 PATCH with a media type other than application/partial-upload: 415 (contract, interop >= 6)', async () => {
    const { url } = await c.create({ 'Upload-Length': '4' });
    const res = await c.patch(url, 0, Buffer.from('ab'), false, { 'Content-Type': 'application/octet-stream' });
    expect(res.status).toBe(415);
    expect(problem(res).code).toBe('UNSUPPORTED_CONTENT_TYPE');
    expect(await offsetOf(c, url)).toBe(0);
  });

  it('§4.4 append without Upload-Complete or with a malformed Upload-Offset (ignored, §4.1.1): 400', async () => {
    const { url } = await c.create({ 'Upload-Length': '4' });
    const noComplete = await c.patch(url, 0, Buffer.from('ab'), false, { 'Upload-Complete': 'yes' });
    expect(noComplete.status).toBe(400);
    expect(problem(noComplete).code).toBe('INVALID_REQUEST');
    const badOffset = await c.patch(url, 0, Buffer.from('ab'), false, { 'Upload-Offset': '-1' });
    expect(badOffset.status).toBe(400);
    expect(problem(badOffset).code).toBe('INVALID_OFFSET');
    expect(await offsetOf(c, url)).toBe(0);
  });

  it('§10.2 Content-Digest sha-256 mismatch: 400 CHECKSUM_MISMATCH, offset unchanged; match accepted', async () => {
    const { url } = await c.create({ 'Upload-Length': '8' });
    const bad = await c.patch(url, 0, Buffer.from('abcd'), false, {
      'Content-Digest': sha256Field(Buffer.from('abcX')),
    });
    expect(bad.status).toBe(400);
    expect(problem(bad).code).toBe('CHECKSUM_MISMATCH');
    expect(await offsetOf(c, url)).toBe(0);
    const good = await c.patch(url, 0, Buffer.from('abcd'), false, {
      'Content-Digest': sha256Field(Buffer.from('abcd')),
    });
    expect(good.status).toBe(204);
    expect(await offsetOf(c, url)).toBe(4);
  });

  it('§10.1 Repr-Digest mismatch on completion: 400 REPR_DIGEST_MISMATCH, Upload-Complete ?1, no blob', async () => {
    const { url } = await c.create({ 'Upload-Length': '4', 'Repr-Digest': sha256Field(Buffer.from('nope')) });
    const res = await c.patch(url, 0, Buffer.from('abcd'), true);
    expect(res.status).toBe(400);
    expect(sfItem(header(res, 'upload-complete'))).toBe(true);
    expect(problem(res).code).toBe('REPR_DIGEST_MISMATCH');
    expect((await fetch(url)).status).not.toBe(200);
  });

  it('§4.2 interrupted creation ?1: prefix kept, not complete (MUST NOT), resumable at the HEAD offset', async () => {
    const data = testBytes(256 * 1024, 9);
    const open = openRequest(t.endpoint, 'POST', {
      ...c.headers,
      'Upload-Complete': '?1',
      'Content-Length': String(data.length),
    });
    await open.write(data.subarray(0, 100_000));
    const interim = await within(open.firstInterim, 5000, 'the 104 of the creation');
    expect(interim.status).toBe(104);
    const url = c.abs(interim.headers.location as string);
    await new Promise((r) => setTimeout(r, 150));
    open.abort();
    await waitFor(async () => (await offsetOf(c, url)) === 100_000);
    expect(await completeOf(c, url)).toBe(false);
    const rest = await c.patch(url, 100_000, data.subarray(100_000), true);
    expect(rest.status).toBe(200);
    expect(sha256(await c.bytes(url))).toBe(sha256(data));
  });

  it('§4.4 interrupted ?1 append: prefix kept, upload not complete (MUST NOT), resumed byte-exact', async () => {
    const data = testBytes(128 * 1024, 4);
    const { url } = await c.create({}, data.subarray(0, 1000));
    const open = openRequest(url, 'PATCH', appendHeaders(1000, true, data.length - 1000));
    await open.write(data.subarray(1000, 50_000));
    await new Promise((r) => setTimeout(r, 150));
    open.abort();
    await waitFor(async () => (await offsetOf(c, url)) === 50_000);
    expect(await completeOf(c, url)).toBe(false);
    expect((await c.patch(url, 50_000, data.subarray(50_000), true)).status).toBe(200);
    expect(sha256(await c.bytes(url))).toBe(sha256(data));
  });

  it('§4.4 a stalled body (idle timeout) is ended: connection closed, prefix kept, not complete', async () => {
    const { url } = await c.create({ 'Upload-Length': '10' });
    const open = openRequest(url, 'PATCH', appendHeaders(0, false, 10));
    await open.write(Buffer.from('abc'));
    // As on tus: the idle connection is closed (no final answer reaches a client that stopped sending).
    const res = await within(open.response, IDLE_MS + 5000, 'the end of the stalled append');
    expect(res).toBeUndefined();
    // §4.4: as much as possible is appended, and the upload is not complete.
    expect(await offsetOf(c, url)).toBe(3);
    expect(await completeOf(c, url)).toBe(false);
    open.abort();
  });

  it('§4.6 HEAD during an in-flight append reports an offset the next PATCH accepts (MUST)', async () => {
    const data = testBytes(64 * 1024, 8);
    const { url } = await c.create({ 'Upload-Length': String(data.length) });
    const open = openRequest(url, 'PATCH', appendHeaders(0, true, data.length));
    await open.write(data.subarray(0, 20_000));
    await new Promise((r) => setTimeout(r, 150));
    const at = Number(await offsetOf(c, url));
    expect(at).toBeLessThanOrEqual(20_000);
    const rest = await c.patch(url, at, data.subarray(at), true);
    expect(rest.status).toBe(200);
    expect(sha256(await c.bytes(url))).toBe(sha256(data));
    const ended = await open.response;
    expect(ended?.status).toBe(400);
    expect(JSON.parse(ended!.body)).toMatchObject({ code: 'UPLOAD_INTERRUPTED' });
    open.abort();
  });

  it('§4.6 §4.5 DELETE during an in-flight append: 204, the append ends, later requests 410', async () => {
    const { url } = await c.create({ 'Upload-Length': '50000' });
    const open = openRequest(url, 'PATCH', appendHeaders(0, false, 50_000));
    await open.write(testBytes(10_000, 2));
    await new Promise((r) => setTimeout(r, 150));
    expect((await c.del(url)).status).toBe(204);
    expect((await open.response)?.status ?? 400).toBeGreaterThanOrEqual(400);
    expect((await c.head(url)).status).toBe(410);
    open.abort();
  });
});
