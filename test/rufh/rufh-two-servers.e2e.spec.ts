import { readFileSync } from 'node:fs';
import { IncomingHttpHeaders, request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest, TestResponse } from '../support/http-client';
import { ServerProcess, startServer } from '../support/server-process';
import { testBytes } from '../tus/tus-http';
import { postgresReachable } from '../typeorm/postgres-gate';
import { createScratchPostgres, scratchDir } from '../typeorm/typeorm-test-db';

/*
 * RUFH draft §4.6 (concurrency) across two real server processes on one session store and one STORAGE_DIR: a
 * client whose PATCH (or creation) on server A stalls asks server B for the offset. B's HEAD must first end A's
 * request, so the offset it reports is the one B's PATCH is accepted at, and the final blob is byte-exact. Bytes
 * A's client sends after B answered are garbage on purpose: stored anywhere, they would show a second writer.
 */

const DRAFT = { 'Upload-Draft-Interop-Version': '8' };
const PARTIAL = { 'Content-Type': 'application/partial-upload' };
const SIZE = 512 * 1024;
/** What the stalled request sends before it stops (in 4 pieces). */
const PART = 160 * 1024;
/** How long the stalled request gets to be mid-body on A before B is asked. */
const SETTLE_MS = 1000;

/** How a request that was cut off ended: the server's answer, or the connection closing without one. */
type Outcome =
  | { answered: true; status: number; connection?: string; json: Record<string, unknown> }
  | { answered: false; error: string };

/** A request still sending its body: its 1xx answers, how it ended, and a way to send more. */
interface InFlight {
  firstInterim: Promise<IncomingHttpHeaders>;
  outcome: Promise<Outcome>;
  /** Send more body bytes; `false` when the request is already over (nothing was sent). */
  write(bytes: Buffer): Promise<boolean>;
}

function startInFlight(url: string, method: string, headers: Record<string, string>, length: number): InFlight {
  // Its own connection (no keep-alive pool), destroyed once over, so nothing outlives the test.
  const req = request(url, {
    method,
    agent: false,
    headers: { ...DRAFT, ...headers, 'Content-Length': String(length) },
  });
  let over = false;
  let gotInterim: (headers: IncomingHttpHeaders) => void = () => undefined;
  const firstInterim = new Promise<IncomingHttpHeaders>((resolve) => (gotInterim = resolve));
  req.on('information', (info) => info.statusCode === 104 && gotInterim(info.headers));
  const outcome = new Promise<Outcome>((resolve) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      const connection = res.headers.connection;
      res.on('end', () => resolve({ answered: true, status: res.statusCode ?? 0, connection, json: parse(text) }));
      res.on('error', (error) => resolve({ answered: false, error: `response cut: ${error.message}` }));
    });
    req.on('error', (error) => resolve({ answered: false, error: error.message }));
    req.on('close', () => resolve({ answered: false, error: 'closed without an answer' }));
  });
  void outcome.then(() => {
    over = true;
    req.destroy();
  });
  return {
    firstInterim,
    outcome,
    write: async (bytes) => {
      if (over || req.destroyed) return false;
      if (!req.write(bytes)) await Promise.race([new Promise((r) => req.once('drain', r)), outcome]);
      return true;
    },
  };
}

function parse(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Send `data` in 4 pieces, then give server A time to be mid-body with the upload locked. */
async function sendPart(inFlight: InFlight, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; at += data.length / 4) {
    expect(await inFlight.write(data.subarray(at, at + data.length / 4))).toBe(true);
    await sleep(100);
  }
  await sleep(SETTLE_MS);
}

/** A's request must be over within a few seconds of B's answer: an error answer, or a closed connection. */
async function expectEnded(inFlight: InFlight): Promise<Outcome> {
  // Unref'd: the timer must not keep the test process alive once the race is decided.
  const timeout = sleep(15_000, undefined, { ref: false }).then(() => 'still running 15 s after B answered' as const);
  const outcome = await Promise.race([inFlight.outcome, timeout]);
  expect(outcome).not.toBe('still running 15 s after B answered');
  const ended = outcome as Outcome;
  if (ended.answered) {
    // Contract: a request superseded by a newer one answers 400 UPLOAD_INTERRUPTED (with Connection: close).
    const { status, connection, json } = ended;
    expect({ status, connection, code: json.code }).toEqual({
      status: 400,
      connection: 'close',
      code: 'UPLOAD_INTERRUPTED',
    });
  }
  return ended;
}

/** Draft answers carry the request's interop version and never Tus-Resumable. */
function expectDraftAnswer(res: TestResponse, status: number): void {
  expect({ status: res.status, version: res.headers['upload-draft-interop-version'] }).toEqual({
    status,
    version: '8',
  });
  expect(res.headers['tus-resumable']).toBeUndefined();
}

const idOf = (location: string | string[] | undefined): string => String(location).split('/').pop()!;
const head = (server: ServerProcess, id: string) =>
  httpRequest(`${server.url}/files/${id}`, { method: 'HEAD', headers: DRAFT });

/** Create an upload of SIZE bytes on `server` without content (`Upload-Complete: ?0`). */
async function createEmpty(server: ServerProcess): Promise<string> {
  const created = await httpRequest(`${server.url}/files`, {
    method: 'POST',
    headers: { ...DRAFT, 'Upload-Complete': '?0', 'Upload-Length': String(SIZE), 'Content-Length': '0' },
  });
  expectDraftAnswer(created, 201);
  expect(created.headers['upload-offset']).toBe('0');
  return idOf(created.headers.location);
}

interface Backend {
  name: string;
  env(dir: string): Promise<Record<string, string>>;
  drop(): Promise<void>;
}

const sqlite: Backend = {
  name: 'SQLite',
  env: async (dir) => ({ DATABASE_URL: `sqlite:${join(dir, 'sessions.sqlite')}` }),
  drop: async () => undefined,
};
let dropPostgres: () => Promise<void> = async () => undefined;
const postgres: Backend = {
  name: 'PostgreSQL',
  env: async () => {
    const scratch = await createScratchPostgres('rufh_two');
    dropPostgres = () => scratch.drop();
    return { DATABASE_URL: scratch.url };
  },
  drop: () => dropPostgres(),
};

const backends = postgresReachable() ? [sqlite, postgres] : [sqlite];
describe.each(backends)('RUFH across two server processes ($name)', (db) => {
  const tmp = scratchDir('rufh-two');
  const storageDir = join(tmp.dir, 'blobs');
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    const env = { ...(await db.env(tmp.dir)), STORAGE_DIR: storageDir };
    // One after the other: the first runs the migrations.
    a = await startServer(env);
    b = await startServer(env);
  }, 120_000);

  afterAll(async () => {
    await a?.kill();
    await b?.kill();
    await db.drop();
    tmp.cleanup();
  });

  const output = () => `--- server A ---\n${a.output()}\n--- server B ---\n${b.output()}`;

  /** B's HEAD ended A's request; B's PATCH from the reported offset completes the upload byte-exact. */
  async function resumeOnB(id: string, inFlight: InFlight, data: Buffer): Promise<void> {
    const offered = await head(b, id);
    expectDraftAnswer(offered, 204);
    expect(offered.headers['upload-complete']).toBe('?0');
    expect(offered.headers['upload-length']).toBe(String(SIZE));
    expect(offered.headers['cache-control']).toBe('no-store');
    const offset = Number(offered.headers['upload-offset']);
    // The bytes A had before the HEAD may be kept or dropped, nothing more.
    expect(offset >= 0 && offset <= PART).toBe(true);
    // A's client goes on sending, with wrong bytes: after B answered, nothing of it may be stored.
    await inFlight.write(Buffer.alloc(SIZE - PART, 0xee));
    const ended = await expectEnded(inFlight);

    const rest = data.subarray(offset);
    const patch = await httpRequest(`${b.url}/files/${id}`, {
      method: 'PATCH',
      headers: { ...DRAFT, ...PARTIAL, 'Upload-Offset': String(offset), 'Upload-Complete': '?1' },
      body: rest,
    });
    expect({ status: patch.status, body: patch.body.toString() }).toMatchObject({ status: 200 });
    expectDraftAnswer(patch, 200);
    expect(patch.headers['upload-complete']).toBe('?1');

    const got = await httpRequest(`${b.url}/files/${id}`, { headers: DRAFT });
    expect(got.status).toBe(200);
    expect(got.body.equals(data)).toBe(true);
    expect(readFileSync(join(storageDir, String(patch.json.path))).equals(data)).toBe(true);
    const after = await head(a, id);
    expect([after.status, after.headers['upload-complete'], after.headers['upload-offset']]).toEqual([
      204,
      '?1',
      String(SIZE),
    ]);
    const how = ended.answered ? `answered ${ended.status} ${String(ended.json.code)}` : `closed (${ended.error})`;
    // eslint-disable-next-line no-console -- the measured resume point is reported in the test output
    console.log(`${db.name}: B's HEAD reported offset ${offset} of ${PART} bytes A had received; A's request ${how}`);
    // The body is the completed upload as the REST session view shows it.
    const keys = ['uploadId', 'path', 'totalSize', 'contentType', 'checksum', 'status'];
    const { uploadId, status, totalSize } = patch.json;
    const missing = keys.filter((key) => !(key in patch.json));
    expect({ missing, uploadId, status, totalSize }).toEqual({
      missing: [],
      uploadId: id,
      status: 'Complete',
      totalSize: SIZE,
    });
  }

  it('HEAD on B ends a stalled PATCH on A; PATCH on B at the reported offset completes it byte-exact', async () => {
    const data = testBytes(SIZE, 41);
    const id = await createEmpty(a);
    const inFlight = startInFlight(
      `${a.url}/files/${id}`,
      'PATCH',
      { ...PARTIAL, 'Upload-Offset': '0', 'Upload-Complete': '?1' },
      SIZE,
    );
    await sendPart(inFlight, data.subarray(0, PART));
    await resumeOnB(id, inFlight, data).catch((error: Error) => {
      throw new Error(`${error.message}\n${output()}`);
    });
  }, 60_000);

  it('HEAD on B ends a stalled creation on A (id from its 104); PATCH on B completes it byte-exact', async () => {
    const data = testBytes(SIZE, 42);
    const inFlight = startInFlight(
      `${a.url}/files`,
      'POST',
      { 'Upload-Complete': '?1', 'Content-Type': 'application/octet-stream' },
      SIZE,
    );
    const first = data.subarray(0, PART / 4);
    expect(await inFlight.write(first)).toBe(true);
    const interim = await Promise.race([
      inFlight.firstInterim,
      sleep(15_000, undefined, { ref: false }).then(() => null),
    ]);
    expect(interim).toMatchObject({ 'upload-draft-interop-version': '8', location: expect.any(String) });
    await sendPart(inFlight, data.subarray(PART / 4, PART));
    await resumeOnB(idOf(interim!.location), inFlight, data).catch((error: Error) => {
      throw new Error(`${error.message}\n${output()}`);
    });
  }, 60_000);

  it('DELETE on B ends a stalled PATCH on A; afterwards both servers answer 410', async () => {
    const data = testBytes(SIZE, 43);
    const id = await createEmpty(a);
    const inFlight = startInFlight(
      `${a.url}/files/${id}`,
      'PATCH',
      { ...PARTIAL, 'Upload-Offset': '0', 'Upload-Complete': '?0' },
      SIZE,
    );
    await sendPart(inFlight, data.subarray(0, PART));
    const deleted = await httpRequest(`${b.url}/files/${id}`, { method: 'DELETE', headers: DRAFT });
    expectDraftAnswer(deleted, 204);
    await inFlight.write(Buffer.alloc(SIZE - PART, 0xee));
    const ended = await expectEnded(inFlight);
    const how = ended.answered ? `answered ${ended.status} ${String(ended.json.code)}` : `closed (${ended.error})`;
    // eslint-disable-next-line no-console -- how A's request ended is reported in the test output
    console.log(`${db.name}: after B's DELETE, A's request ${how}`);
    for (const server of [a, b]) expectDraftAnswer(await head(server, id), 410);
    const patch = await httpRequest(`${b.url}/files/${id}`, {
      method: 'PATCH',
      headers: { ...DRAFT, ...PARTIAL, 'Upload-Offset': '0', 'Upload-Complete': '?1' },
      body: data,
    });
    expect(patch.status).toBe(410);
  }, 60_000);
});
