import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ServerProcess, startServer } from '../support/server-process';
import { describePostgres } from '../typeorm/postgres-gate';
import { RestUploadClient, sha256 } from '../typeorm/rest-client';
import { createScratchPostgres, ScratchPostgres, scratchDir } from '../typeorm/typeorm-test-db';

/** Short SQL lock lease, so the stopped writer loses it quickly (heartbeat every ttl/3). */
const LEASE_MS = 1000;
const TOTAL = 256 * 1024;
/** What writer A sends before it is stopped: below the 1 MiB write batch, so it is still buffered in the server. */
const A_HEAD = 128 * 1024;

/** A chunk PUT whose body the test sends piece by piece; resolves with the status (or the socket error). */
function slowChunk(base: string, uploadId: string, offset: number, length: number) {
  const url = new URL(`${base}/uploads/${uploadId}/chunks/${offset}`);
  const req = request(url, {
    method: 'PUT',
    agent: false,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
  });
  const outcome = new Promise<{ status?: number; body?: string; error?: string }>((resolve) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (e) => resolve({ status: res.statusCode, error: e.message }));
    });
    req.on('error', (e) => resolve({ error: e.message }));
  });
  return { req, outcome };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describePostgres('local disk: a writer stopped past its lease cannot change committed bytes (two processes)', () => {
  let scratch: ScratchPostgres;
  const tmp = scratchDir('fencing');
  const servers: ServerProcess[] = [];
  const storageDir = join(tmp.dir, 'blobs');

  beforeAll(async () => {
    scratch = await createScratchPostgres('fencing');
    const env = { DATABASE_URL: scratch.url, STORAGE_DIR: storageDir, SQL_LOCK_TTL_MS: String(LEASE_MS) };
    // One after the other: both run the migrations at start, the second finds them applied.
    servers.push(await startServer(env, 45_000));
    servers.push(await startServer(env, 45_000));
  }, 100_000);

  afterAll(async () => {
    for (const server of servers) {
      if (server.child.exitCode === null) server.child.kill('SIGCONT');
      await server.kill();
    }
    await scratch?.drop();
    tmp.cleanup();
  });

  /**
   * `committedByOne` bytes are first committed through server 1 (so A's slow chunk appends to server 1's own
   * segment and the final blob is assembled by copy); 0 = A's chunk is the first (the blob is B's segment renamed).
   */
  async function race(committedByOne: number): Promise<void> {
    const [one, two] = servers;
    const api1 = new RestUploadClient(one.url);
    const api2 = new RestUploadClient(two.url);
    const path = `fencing/${randomBytes(4).toString('hex')}.bin`;
    const { uploadId } = await api2.create(TOTAL, path);
    const head = Buffer.alloc(committedByOne, 'H');
    if (committedByOne > 0) await api1.chunk(uploadId, 0, head);
    const rest = TOTAL - committedByOne;
    const aBytes = Buffer.alloc(rest, 'A');
    const bBytes = Buffer.alloc(rest, 'B');
    const expected = Buffer.concat([head, bBytes]);

    // Writer A: server 1 takes the lock and starts reading a slow chunk of 'A' at the committed offset.
    const a = slowChunk(one.url, uploadId, committedByOne, rest);
    a.req.write(aBytes.subarray(0, A_HEAD));
    await sleep(500);
    one.child.kill('SIGSTOP');
    try {
      // Past the lease: server 2 can take the upload over, write 'B' at the same offset and publish it.
      await sleep(LEASE_MS + 300);
      expect((await api2.chunk(uploadId, committedByOne, bBytes)).uploadedBytes).toBe(TOTAL);
      const done = await api2.complete(uploadId);
      expect(done.session.checksum).toBe(sha256(expected));
    } finally {
      one.child.kill('SIGCONT');
    }

    // Writer A resumes: it still holds its descriptor and its buffered bytes; its body now finishes.
    a.req.end(aBytes.subarray(A_HEAD));
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      a.outcome,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('writer A never answered')), 20_000);
      }),
    ]).finally(() => clearTimeout(timer));
    a.req.destroy();
    // A never gets a success for its bytes: 409 with the committed offset (or, at worst, a dropped connection).
    expect(answer.status === undefined ? answer.error : answer.status).not.toBe(200);
    if (answer.status !== undefined) {
      expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 409 });
    }
    // Let anything A still had in flight reach the disk before looking.
    await sleep(300);

    const blob = readFileSync(join(storageDir, path));
    expect(blob.length).toBe(TOTAL);
    expect(blob.equals(expected)).toBe(true);
    const status = (await api2.status(uploadId)) as unknown as { status: string; checksum: string };
    expect(status.status).toBe('Complete');
    expect(status.checksum).toBe(createHash('sha256').update(blob).digest('hex'));
    // Server 1 answers normally afterwards and reports the same committed state.
    const seenByOne = (await api1.status(uploadId)) as unknown as { checksum: string };
    expect(seenByOne.checksum).toBe(sha256(expected));
  }

  it('SIGSTOP writer A mid-chunk, B takes over and completes, SIGCONT A: blob is exactly B, sha256 too', async () => {
    await race(0);
  }, 30_000);

  it('the same when A was appending to its own committed segment (the blob is assembled by copy)', async () => {
    await race(64 * 1024);
  }, 30_000);
});
