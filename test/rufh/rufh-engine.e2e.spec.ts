import { createHash } from 'node:crypto';
import { request } from 'node:http';
import type { UploadCreateContext } from '../../src/policy/upload-policy.interfaces';
import { ResumableUploadService } from '../../src/uploads/resumable-upload.service';
import type { ValiBlobModuleOptions } from '../../src/vali-blob.options';
import { startTusApp, TusTestApp } from '../tus/tus-app';
import { testBytes } from '../tus/tus-http';
import { openRequest } from './rufh-http';

/** One answer, with the 1xx interim responses that came before it. */
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  interim: { status: number; headers: Record<string, unknown> }[];
}

function send(url: string, method: string, headers: Record<string, string | number>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const interim: Answer['interim'] = [];
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), interim }),
      );
    });
    req.on('information', (info) => interim.push({ status: info.statusCode, headers: info.headers }));
    req.on('error', reject);
    req.end(body);
  });
}

const V8 = { 'Upload-Draft-Interop-Version': 8 };
const sha256B64 = (data: Buffer) => createHash('sha256').update(data).digest('base64');

/** What the draft adds beneath the protocol: the engine's digest check, policy, options and owner scope. */
describe('IETF resumable-upload draft through the engine', () => {
  let t: TusTestApp;
  const created: UploadCreateContext[] = [];

  beforeAll(async () => {
    const options: ValiBlobModuleOptions = {
      authorize: ({ request: req }) => {
        const user = (req as { headers: Record<string, string | undefined> }).headers['x-user'];
        return user ? { ownerId: user } : true;
      },
      policy: { hooks: { onCreate: (ctx) => void created.push(ctx) } },
    };
    t = await startTusApp('express', options);
  });
  afterAll(async () => t?.close());

  const url = (location: string | string[] | undefined) => new URL(String(location), t.origin).href;

  it('Repr-Digest that matches: published, and the answer carries the recorded sha-256 back', async () => {
    const data = testBytes(100_000, 3);
    const digest = `sha-256=:${sha256B64(data)}:`;
    const answer = await send(t.endpoint, 'POST', { ...V8, 'Upload-Complete': '?1', 'Repr-Digest': digest }, data);
    expect(answer.status).toBe(200);
    expect(answer.headers['repr-digest']).toBe(digest);
    expect(JSON.parse(answer.body).status).toBe('Complete');
    // Cancelling a finished upload is refused as on tus (no allowTerminateFinished): the blob stays.
    const location = url(answer.headers.location);
    const cancel = await send(location, 'DELETE', V8);
    expect({ status: cancel.status, code: JSON.parse(cancel.body).code }).toEqual({
      status: 400,
      code: 'UPLOAD_COMPLETE',
    });
    expect((await send(location, 'GET', {})).status).toBe(200);
  });

  it('Repr-Digest that does not match: rejected at completion (nothing published), later requests say so', async () => {
    const data = testBytes(50_000, 4);
    const wrong = `sha-256=:${sha256B64(Buffer.from('something else'))}:`;
    const first = await send(t.endpoint, 'POST', { ...V8, 'Upload-Complete': '?0', 'Repr-Digest': wrong }, data);
    expect(first.status).toBe(201);
    const location = url(first.headers.location);
    const headers = { ...V8, 'Upload-Complete': '?1', 'Upload-Offset': data.length };
    const last = await send(location, 'PATCH', { ...headers, 'Content-Type': 'application/partial-upload' });
    expect(last.status).toBe(400);
    expect(JSON.parse(last.body).code).toBe('REPR_DIGEST_MISMATCH');
    // The refusal is the processing's answer to the complete representation (§4.4): resuming cannot help.
    expect(last.headers['upload-complete']).toBe('?1');
    const id = location.split('/').pop()!;
    const session = await t.app.get(ResumableUploadService).getSession(id);
    expect(session.status).toBe('Rejected');
    expect((await send(location, 'GET', {})).status).not.toBe(200);
    expect((await send(location, 'HEAD', V8)).status).toBe(400);
  });

  it('a malformed Repr-Digest or Content-Digest is a 400 before anything is created', async () => {
    const before = created.length;
    const bad = await send(t.endpoint, 'POST', { ...V8, 'Upload-Complete': '?1', 'Repr-Digest': 'sha-256=abc' });
    expect(bad.status).toBe(400);
    const short = await send(t.endpoint, 'POST', { ...V8, 'Upload-Complete': '?1', 'Content-Digest': 'md5=:AAAA:' });
    expect(short.status).toBe(400);
    expect(created.length).toBe(before);
  });

  it('the policy sees draft uploads as transport "rufh", with the length the request indicates', async () => {
    const data = Buffer.from('policy sees me');
    const answer = await send(
      t.endpoint,
      'POST',
      { ...V8, 'Upload-Complete': '?1', 'Content-Type': 'text/plain' },
      data,
    );
    expect(answer.status).toBe(200);
    const seen = created[created.length - 1];
    expect(seen.transport).toBe('rufh');
    expect(seen.totalSize).toBe(data.length);
    expect(seen.contentType).toBe('text/plain');
  });

  it('an empty representation with Upload-Complete: ?1 completes; ?0 with Upload-Length: 0 does not', async () => {
    const done = await send(t.endpoint, 'POST', { ...V8, 'Upload-Complete': '?1', 'Content-Length': 0 });
    expect(done.status).toBe(200);
    expect(done.headers['upload-complete']).toBe('?1');
    const open = await send(t.endpoint, 'POST', { ...V8, 'Upload-Complete': '?0', 'Upload-Length': 0 });
    expect(open.status).toBe(201);
    const head = await send(url(open.headers.location), 'HEAD', V8);
    expect(head.headers['upload-complete']).toBe('?0');
  });

  it('interop 5 and 6 also complete at a declared length (tus-js-client relies on it); 7 and 8 do not', async () => {
    for (const version of [5, 6, 7, 8]) {
      const headers = { 'Upload-Draft-Interop-Version': version, 'Upload-Length': 3 };
      const created = await send(t.endpoint, 'POST', { ...headers, 'Upload-Complete': '?0' }, Buffer.from('abc'));
      const complete = version <= 6 ? '?1' : '?0';
      expect({ version, complete: created.headers['upload-complete'] }).toEqual({ version, complete });
      expect({ version, status: created.status }).toEqual({ version, status: version <= 6 ? 200 : 201 });
    }
  });

  it('§4.6: a HEAD first ends the append in flight; the next append takes the offset it reports', async () => {
    const data = testBytes(300_000, 5);
    const created = await send(t.endpoint, 'POST', { ...V8, 'Upload-Complete': '?0', 'Upload-Length': data.length });
    const location = url(created.headers.location);
    const first = data.subarray(0, 100_000);
    const inFlight = openRequest(location, 'PATCH', {
      'Upload-Draft-Interop-Version': '8',
      'Upload-Offset': '0',
      'Upload-Complete': '?1',
      'Content-Type': 'application/partial-upload',
      'Content-Length': String(data.length),
    });
    await inFlight.write(first);
    // The first bytes are on their way; the client "lost" the request and asks where the upload stands.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const head = await send(location, 'HEAD', V8);
    expect(head.status).toBe(204);
    // Not after the idle timeout: the writer was asked to let go at once.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await inFlight.response)?.status).toBe(400);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBe(first.length);
    const rest = {
      ...V8,
      'Upload-Complete': '?1',
      'Upload-Offset': offset,
      'Content-Type': 'application/partial-upload',
    };
    const done = await send(location, 'PATCH', rest, data.subarray(offset));
    expect(done.status).toBe(200);
    const download = await fetch(location);
    expect(Buffer.from(await download.arrayBuffer()).equals(data)).toBe(true);
  });

  it("owner scope: another owner's upload resource answers as if it did not exist", async () => {
    const mine = { ...V8, 'x-user': 'alice' };
    const answer = await send(t.endpoint, 'POST', { ...mine, 'Upload-Complete': '?0', 'Upload-Length': 10 });
    const location = url(answer.headers.location);
    expect((await send(location, 'HEAD', mine)).status).toBe(204);
    expect((await send(location, 'HEAD', { ...V8, 'x-user': 'mallory' })).status).toBe(404);
    const append = { ...V8, 'x-user': 'mallory', 'Upload-Complete': '?0', 'Upload-Offset': 0 };
    const patched = await send(location, 'PATCH', { ...append, 'Content-Type': 'application/partial-upload' }, data5());
    expect(patched.status).toBe(404);
    expect((await send(location, 'DELETE', { ...V8, 'x-user': 'mallory' })).status).toBe(404);
    expect((await send(location, 'HEAD', mine)).headers['upload-offset']).toBe('0');
  });
});

function data5(): Buffer {
  return Buffer.from('12345');
}

describe('IETF draft options', () => {
  it('tus.ietfDraft: false leaves the endpoint to tus (the interop header is ignored)', async () => {
    const t = await startTusApp('express', { tus: { ietfDraft: false } });
    try {
      const answer = await send(t.endpoint, 'POST', { ...V8, 'Upload-Complete': '?1' }, Buffer.from('x'));
      expect(answer.status).toBe(412);
      expect(answer.headers['tus-resumable']).toBe('1.0.0');
      const options = await send(t.endpoint, 'OPTIONS', {});
      expect(options.headers['accept-patch']).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('with tus.cors, browsers may send and read the draft fields', async () => {
    const t = await startTusApp('express', { tus: { cors: '*' } });
    try {
      const preflight = await send(t.endpoint, 'OPTIONS', {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'upload-complete, upload-draft-interop-version',
      });
      const allowed = String(preflight.headers['access-control-allow-headers']);
      for (const name of ['Upload-Complete', 'Upload-Draft-Interop-Version', 'Content-Digest', 'Repr-Digest']) {
        expect(allowed).toContain(name);
      }
      const answer = await send(t.endpoint, 'POST', { ...V8, Origin: 'https://app.example', 'Upload-Complete': '?0' });
      const exposed = String(answer.headers['access-control-expose-headers']);
      for (const name of ['Location', 'Upload-Offset', 'Upload-Complete', 'Upload-Limit'])
        expect(exposed).toContain(name);
    } finally {
      await t.close();
    }
  });

  it('tus.ietfInterimResponses: false sends no 104, and the final answer still names the upload', async () => {
    const t = await startTusApp('fastify', { tus: { ietfInterimResponses: false } });
    try {
      const answer = await send(t.endpoint, 'POST', { ...V8, 'Upload-Complete': '?0', 'Upload-Length': 3 });
      expect(answer.status).toBe(201);
      expect(answer.interim).toEqual([]);
      expect(answer.headers.location).toMatch(/^\/files\/[A-Za-z0-9_-]+$/);
    } finally {
      await t.close();
    }
  });
});
