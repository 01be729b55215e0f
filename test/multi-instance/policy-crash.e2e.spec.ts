import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisQuotaStore } from '../../src/redis';
import { FakeClamd, startFakeClamd } from '../support/fake-clamd';
import { httpRequest, TestResponse } from '../support/http-client';
import { REDIS_URL } from '../support/services';
import { ServerProcess, startServer } from '../support/server-process';
import { waitFor } from '../tus/tus-http';
import { scratchDir } from '../typeorm/typeorm-test-db';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Two server processes on one Redis and one storage directory, scanning before publish. Instance A's clamd never
 * answers, so A holds the upload's lock in `beforePublish` when it is SIGKILLed or SIGSTOPped; instance B (its
 * clamd answers) must then publish the upload exactly once after A's lease lapses, and a resumed A must not
 * publish it again or count its bytes twice in the quota.
 */
describe('policy stage (scan before publish) with the lock holder killed or paused, two processes on Redis', () => {
  const tmp = scratchDir('policy-crash');
  const prefix = `vbtest:policycrash:${randomBytes(4).toString('hex')}:`;
  let hanging: FakeClamd;
  let answering: FakeClamd;
  let a: ServerProcess;
  let b: ServerProcess;
  let redis: Redis;

  const clamdEnv = (clamd: FakeClamd) => {
    const { host, port } = clamd.address as { host: string; port: number };
    return `${host}:${port}`;
  };

  async function startPair(): Promise<void> {
    const env = {
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      REDIS_LOCK_TTL_MS: '1000',
      STORAGE_DIR: join(tmp.dir, 'blobs'),
      QUOTA_BYTES: String(10 * 1024 * 1024),
    };
    a = await startServer({ ...env, CLAMD: clamdEnv(hanging) });
    b = await startServer({ ...env, CLAMD: clamdEnv(answering) });
  }

  beforeAll(async () => {
    hanging = await startFakeClamd({ mode: 'hang' });
    answering = await startFakeClamd();
    redis = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    for (const server of [a, b]) {
      if (!server) continue;
      try {
        process.kill(server.pid, 'SIGCONT');
      } catch {
        // already gone
      }
      await server.kill();
    }
  });

  afterAll(async () => {
    await hanging?.close();
    await answering?.close();
    await redis?.quit();
    tmp.cleanup();
  });

  /** Create and fill an upload on A; returns its id, path and bytes. */
  async function stagedOnA(name: string) {
    const data = randomBytes(256 * 1024);
    const created = await httpRequest(`${a.url}/uploads`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ totalSize: data.length, path: `crash/${name}.bin` }),
    });
    expect(created.status).toBe(201);
    const id = created.json.uploadId as string;
    const put = await httpRequest(`${a.url}/uploads/${id}/chunks/0`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: data,
    });
    expect(put.status).toBe(200);
    return { id, path: created.json.path as string, data };
  }

  /** Start complete on A and wait until its scan reached the (silent) clamd: A now holds the lock in the stage. */
  async function completeStuckOnA(id: string): Promise<{ late: Promise<TestResponse | Error> }> {
    const before = hanging.connections;
    const late = httpRequest(`${a.url}/uploads/${id}/complete`, { method: 'POST' }).catch((e: Error) => e);
    await waitFor(async () => hanging.connections > before);
    // Wrapped: an async function returning the promise itself would wait for A's answer.
    return { late };
  }

  async function expectPublishedOnceByB(id: string, path: string, data: Buffer): Promise<void> {
    const done = await httpRequest(`${b.url}/uploads/${id}/complete`, { method: 'POST' });
    expect({ status: done.status, checksum: done.json?.session?.checksum }).toEqual({
      status: 200,
      checksum: sha256(data),
    });
    expect(readFileSync(join(tmp.dir, 'blobs', path)).equals(data)).toBe(true);
    const status = await httpRequest(`${b.url}/uploads/${id}`);
    expect(status.json).toMatchObject({ status: 'Complete', checksum: sha256(data) });
  }

  it('SIGKILL of the holder mid-scan: B publishes once the lease lapses, the quota counts the bytes once', async () => {
    await startPair();
    const { id, path, data } = await stagedOnA('killed');
    await completeStuckOnA(id);
    await a.kill();
    await expectPublishedOnceByB(id, path, data);
    const usage = await new RedisQuotaStore(redis, { keyPrefix: `${prefix}quota:` }).usage('*');
    expect(usage).toMatchObject({ usedBytes: data.length, reservedBytes: 0 });
  }, 60_000);

  it('SIGSTOP of the holder mid-scan: B publishes; resumed, A answers a failure and changes nothing', async () => {
    await startPair();
    const { id, path, data } = await stagedOnA('paused');
    const { late } = await completeStuckOnA(id);
    process.kill(a.pid, 'SIGSTOP');
    await expectPublishedOnceByB(id, path, data);
    process.kill(a.pid, 'SIGCONT');
    // A's silent clamd goes away: its scan ends without a verdict, and its late answer is no success.
    await hanging.close();
    const answer = await late;
    expect(answer instanceof Error ? 'error' : answer.status).not.toBe(200);
    hanging = await startFakeClamd({ mode: 'hang' });
    expect(readFileSync(join(tmp.dir, 'blobs', path)).equals(data)).toBe(true);
    const status = await httpRequest(`${b.url}/uploads/${id}`);
    expect(status.json).toMatchObject({ status: 'Complete', checksum: sha256(data) });
  }, 60_000);
});
