import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ResumableUploadService } from '../../src/uploads/resumable-upload.service';
import { PLATFORMS, Platform, startTusApp, TusTestApp } from '../tus/tus-app';
import { rawRequest, RawResponse } from '../tus/tus-http';

const V8 = { 'Upload-Draft-Interop-Version': '8' };
const PARTIAL = { 'Content-Type': 'application/partial-upload' };

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** A 4xx problem with the stable `code` (never a 5xx the client would retry forever). */
function expectProblem(res: RawResponse, status: number, code: string, what: unknown): void {
  expect({ what, status: res.status }).toEqual({ what, status });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect({ what, code: JSON.parse(res.body).code }).toEqual({ what, code });
}

/**
 * Hostile input to the IETF draft on the tus endpoint, on both platforms: malformed structured fields, lengths
 * and digests, file names that try to leave the storage root, and content past the declared length. Each gets a
 * clear 4xx with a stable code; nothing is stored outside the root; the upload is never corrupted.
 */
describe.each(PLATFORMS)('hostile IETF-draft requests on %s', (platform: Platform) => {
  let t: TusTestApp;

  beforeAll(async () => {
    t = await startTusApp(platform, { maxUploadSize: 1024 * 1024 });
  });
  afterAll(async () => t?.close());

  const create = (headers: Record<string, string>, body?: Buffer) =>
    rawRequest(t.endpoint, { method: 'POST', headers: { ...V8, ...headers }, body });
  const at = (res: RawResponse) => new URL(String(res.headers.location), t.origin).href;

  it('interop versions that are not 5-8 or not an integer: 400 UNSUPPORTED_INTEROP_VERSION, no upload', async () => {
    for (const version of ['', 'abc', '8, 8', '-8', '4', '9', '8.0', '99999999999999999999', '?1']) {
      const res = await create({ 'Upload-Draft-Interop-Version': version, 'Upload-Complete': '?0' });
      expectProblem(res, 400, 'UNSUPPORTED_INTEROP_VERSION', version);
      expect(res.headers['tus-resumable']).toBeUndefined();
    }
  });

  it('Upload-Complete that is not a Structured Boolean is ignored, so creation lacks it: 400', async () => {
    for (const value of ['yes', '?2', '1', 'true', '?1, ?0', '"?1"']) {
      expectProblem(await create({ 'Upload-Complete': value }), 400, 'INVALID_REQUEST', value);
    }
  });

  it('append offsets that are not non-negative Structured Integers: 400 INVALID_OFFSET, offset kept', async () => {
    const upload = at(await create({ 'Upload-Complete': '?0', 'Upload-Length': '10' }));
    for (const offset of ['-1', '1e3', '99999999999999999999', 'abc', '0.5', '']) {
      const headers = { ...V8, ...PARTIAL, 'Upload-Complete': '?0', 'Upload-Offset': offset };
      const res = await rawRequest(upload, { method: 'PATCH', headers, body: Buffer.from('abc') });
      expectProblem(res, 400, 'INVALID_OFFSET', offset);
    }
    const head = await rawRequest(upload, { method: 'HEAD', headers: V8 });
    expect(head.headers['upload-offset']).toBe('0');
  });

  it('file names climbing out of the root are stored sanitised inside it; a broken disposition: 400', async () => {
    const names = [
      'attachment; filename="../../../etc/passwd"',
      "inline; filename*=UTF-8''%2e%2e%2f%2e%2e%2fescape.txt",
      'inline; filename="..\\\\..\\\\win.ini"',
    ];
    for (const disposition of names) {
      const res = await create({ 'Upload-Complete': '?1', 'Content-Disposition': disposition }, Buffer.from('x'));
      expect({ disposition, status: res.status }).toEqual({ disposition, status: 200 });
      expect(JSON.parse(res.body).path).toMatch(/^tus\/[A-Za-z0-9_-]+\/[^/\\]+$/);
    }
    for (const file of await filesUnder(t.root)) expect(file.startsWith('..')).toBe(false);
    const broken = await create({ 'Upload-Complete': '?1', 'Content-Disposition': 'inline; filename=' });
    expectProblem(broken, 400, 'INVALID_METADATA', 'broken disposition');
  });

  it('lengths past the maximum: 413 SIZE_EXCEEDED with Upload-Limit, nothing created', async () => {
    const res = await create({ 'Upload-Complete': '?0', 'Upload-Length': '999999999999999' });
    expectProblem(res, 413, 'SIZE_EXCEEDED', 'length');
    expect(res.headers['upload-limit']).toMatch(/max-size=1048576/);
  });

  it('digests that are not RFC 9530 dictionaries of byte sequences: 400; unknown algorithms: ignored', async () => {
    for (const digest of ['sha-256=:!!!:', 'sha-256', 'sha-256=:AAAA:', 'sha-256="abc"']) {
      const res = await create({ 'Upload-Complete': '?1', 'Content-Digest': digest }, Buffer.from('x'));
      expectProblem(res, 400, 'INVALID_REQUEST', digest);
    }
    const unknown = `sha-512=:${Buffer.alloc(64).toString('base64')}:`;
    const res = await create({ 'Upload-Complete': '?1', 'Content-Digest': unknown }, Buffer.from('x'));
    expect(res.status).toBe(200);
  });

  it('reserved metadata keys through Upload-Metadata: 400 INVALID_METADATA', async () => {
    const forged = `valiblob:sha256 ${Buffer.from('00').toString('base64')}`;
    const res = await create({ 'Upload-Complete': '?1', 'Upload-Metadata': forged }, Buffer.from('x'));
    expectProblem(res, 400, 'INVALID_METADATA', 'reserved');
  });

  it('chunked content past the recorded length: 400 inconsistent length, and the upload is deactivated', async () => {
    const upload = at(await create({ 'Upload-Complete': '?0', 'Upload-Length': '4' }));
    const headers = { ...V8, ...PARTIAL, 'Upload-Complete': '?0', 'Upload-Offset': '0' };
    const res = await rawRequest(upload, { method: 'PATCH', headers, body: Buffer.from('123456789'), chunked: true });
    expectProblem(res, 400, 'INCONSISTENT_LENGTH', 'overrun');
    expect(JSON.parse(res.body).type).toBe(
      'https://iana.org/assignments/http-problem-types#inconsistent-upload-length',
    );
    expect((await rawRequest(upload, { method: 'HEAD', headers: V8 })).status).toBe(410);
    const id = upload.split('/').pop()!;
    expect((await t.app.get(ResumableUploadService).getSession(id)).status).toBe('Aborted');
  });
});
