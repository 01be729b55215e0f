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

  it('SIGSTOP writer A mid-chunk, B takes over and completes, SIGCONT A: the blob is exactly B and its sha256 matches', async () => {
    const [one, two] = servers;
    const api2 = new RestUploadClient(two.url);
    const path = `fencing/${randomBytes(4).toString('hex')}.bin`;
    const { uploadId } = await api2.create(TOTAL, path);
    const aBytes = Buffer.alloc(TOTAL, 'A');
    const bBytes = Buffer.alloc(TOTAL, 'B');

    // Writer A: server 1 takes the lock and starts reading a slow chunk of 'A' at offset 0.
    const a = slowChunk(one.url, uploadId, 0, TOTAL);
    a.req.write(aBytes.subarray(0, A_HEAD));
    await sleep(500);
    let continued = false;
    one.child.kill('SIGSTOP');
    try {
      // Past the lease: server 2 can take the upload over, write 'B' at the same offset and publish it.
      await sleep(LEASE_MS + 300);
      const written = await api2.chunk(uploadId, 0, bBytes);
      expect(written.uploadedBytes).toBe(TOTAL);
      const done = await api2.complete(uploadId);
      expect(done.session.checksum).toBe(sha256(bBytes));
    } finally {
      one.child.kill('SIGCONT');
      continued = true;
    }
    expect(continued).toBe(true);

    // Writer A resumes: it still holds its descriptor and its buffered bytes; its body now finishes.
    a.req.end(aBytes.subarray(A_HEAD));
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      a.outcome,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('writer A never answered')), 20_000))),
    ]).finally(() => clearTimeout(timer));
    a.req.destroy();
    // A never gets a success for its bytes: 409 with the committed offset (or, at worst, a dropped connection).
    expect(answer.status === undefined ? answer.error : answer.status).not.toBe(200);
    if (answer.status !== undefined) expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 409 });
    // Let anything A still had in flight reach the disk before looking.
    await sleep(300);

    const blob = readFileSync(join(storageDir, path));
    expect(blob.length).toBe(TOTAL);
    expect(blob.equals(bBytes)).toBe(true);
    const status = (await api2.status(uploadId)) as unknown as { status: string; checksum: string };
    expect(status.status).toBe('Complete');
    expect(status.checksum).toBe(createHash('sha256').update(blob).digest('hex'));
    // Server 1 answers normally afterwards and reports the same committed state.
    const seenByOne = (await new RestUploadClient(one.url).status(uploadId)) as unknown as { checksum: string };
    expect(seenByOne.checksum).toBe(sha256(bBytes));
  }, 60_000);
});
