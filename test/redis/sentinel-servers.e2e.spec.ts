import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import {
  redisServerAvailable,
  RedisSentinelTopology,
  startRedisSentinel,
  stopRedisTopologies,
} from '../support/redis-topology';
import { ServerProcess, startServer } from '../support/server-process';
import { newPartition } from './redis-store.cases';
import { raceOneTusUpload, sha256, tusCreate, tusDownload, tusOffset, tusPatch, tusSendRest } from './tus-two-servers';

/*
 * Two real server processes (`npm start`) reaching a real Sentinel-managed master (`REDIS_SENTINELS` +
 * `REDIS_SENTINEL_NAME`): they race one tus upload, and another one survives a Sentinel failover half way.
 */

const available = redisServerAvailable();

describe('Two servers through Redis Sentinel (REDIS_SENTINELS)', () => {
  let topology: RedisSentinelTopology | undefined;
  let storageDir: string | undefined;
  const partition = newPartition();
  const servers: ServerProcess[] = [];

  const sessionStore = () =>
    new RedisSessionStore({ connection: { sentinels: topology!.sentinels, name: topology!.name }, partition });

  beforeAll(async () => {
    if (!(await available)) return;
    topology = await startRedisSentinel();
    storageDir = await mkdtemp(join(tmpdir(), 'vb-sentinel-e2e-'));
    const env = {
      REDIS_SENTINELS: topology.env,
      REDIS_SENTINEL_NAME: topology.name,
      REDIS_PARTITION: partition,
      REDIS_LOCK_TTL_MS: '3000',
      STORAGE_DIR: storageDir,
    };
    servers.push(...(await Promise.all([startServer(env), startServer(env)])));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await topology?.stop();
    await stopRedisTopologies();
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  }, 30_000);

  beforeEach(() => {
    if (!topology) throw new Error('Redis Sentinel unavailable: see the SKIPPING message above');
  });

  it('both servers say they use the Sentinel master', () => {
    for (const server of servers) {
      expect(server.output()).toContain(`Redis Sentinel master "${topology!.name}" via ${topology!.env}`);
    }
  });

  it('races and finishes one tus upload across both servers', async () => {
    const [a, b] = servers;
    const { id, data } = await raceOneTusUpload(a, b);
    const store = sessionStore();
    try {
      expect(await store.get(id)).toMatchObject({ status: 'Complete', uploadedBytes: data.length });
    } finally {
      await store.close();
    }
  }, 60_000);

  it('finishes a tus upload whose second half is sent after a Sentinel failover', async () => {
    const [a, b] = servers;
    const chunk = 128 * 1024;
    const data = randomBytes(8 * chunk + 77);
    const half = 4 * chunk;
    const id = await tusCreate(a, data.length);
    for (let offset = 0; offset < half; offset += chunk) {
      expect(
        (await tusPatch(offset % (2 * chunk) ? b : a, id, offset, data.subarray(offset, offset + chunk))).status,
      ).toBe(204);
    }
    expect(await tusOffset(b, id)).toBe(half);

    // Everything written so far is on the replica before the roles swap (WAIT 1 replica).
    const oldMaster = new Redis({ host: '127.0.0.1', port: await topology!.masterPort() });
    try {
      expect(await oldMaster.wait(1, 5_000)).toBe(1);
    } finally {
      oldMaster.disconnect();
    }
    const { from, to } = await topology!.failover();
    expect(to).not.toBe(from);

    // Both servers carry on against the new master (a tus client retries a 503 / 423 the same way).
    expect(await tusOffset(b, id)).toBe(half);
    await tusSendRest([b, a], id, data, chunk);
    expect(sha256(await tusDownload(a, id))).toBe(sha256(data));

    const store = sessionStore();
    try {
      const session = await store.get(id);
      expect(session).toMatchObject({ uploadId: id, status: 'Complete', uploadedBytes: data.length });
      expect(session!.totalSize).toBe(data.length);
    } finally {
      await store.close();
    }
    // The session lives on the new master.
    const newMaster = new Redis({ host: '127.0.0.1', port: to });
    try {
      const raw = await newMaster.get(`valiblob:${partition}:session:${id}`);
      expect(JSON.parse(raw!)).toMatchObject({ status: 'Complete', uploadedBytes: data.length });
    } finally {
      newMaster.disconnect();
    }
  }, 60_000);
});
