import Redis from 'ioredis';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import { UploadStatus } from '../../src/sessions/upload-session.model';
import { makeTestSession } from '../../src/testing/session-store.contract';
import {
  redisServerAvailable,
  RedisSentinelTopology,
  startRedisSentinel,
  stopRedisTopologies,
} from '../support/redis-topology';
import { newPartition } from './redis-store.cases';
import { runRedisTopologyCases } from './redis-topology.cases';

/*
 * A real Sentinel setup (master, replica, one Sentinel with quorum 1) on loopback ports, torn down after the
 * suite: the session store contract, the Redis-store cases and the locker through Sentinel, then a failover under
 * a live store.
 */

const available = redisServerAvailable();

describe('Redis Sentinel (real master + replica + sentinel)', () => {
  let topology: RedisSentinelTopology | undefined;
  let admin: Redis;

  const connection = () => {
    if (!topology) throw new Error('Redis Sentinel unavailable: see the SKIPPING message above');
    return { sentinels: topology.sentinels, name: topology.name };
  };

  beforeAll(async () => {
    if (!(await available)) return;
    topology = await startRedisSentinel();
    admin = new Redis({ sentinels: topology.sentinels, name: topology.name });
  }, 60_000);

  afterAll(async () => {
    admin?.disconnect();
    await topology?.stop();
    await stopRedisTopologies();
  });

  runRedisTopologyCases('redis sentinel', connection, () => admin, 'RedisUploadLocker through Sentinel');

  it('keeps the single-index layout (one bucket) by default through Sentinel', async () => {
    const store = new RedisSessionStore({ connection: connection() });
    try {
      await store.ping();
      expect(store.bucketCount).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('survives a failover: replicated sessions and fences are read from the new master, writes go on', async () => {
    const store = new RedisSessionStore({ connection: connection(), partition: newPartition() });
    const locker = store.createLocks().uploadLocker;
    try {
      const session = makeTestSession({ status: UploadStatus.InProgress, totalSize: 100 });
      await store.save(session);
      const lease = await locker.acquire(session.uploadId, { waitMs: 0, requestRelease: false });
      expect(await store.advance(session.uploadId, 0, { uploadedBytes: 50, fence: lease.fence })).not.toBeNull();
      await lease.release();
      // Make sure the replica has everything before the roles swap (a failover loses unreplicated writes).
      const before = await topology!.masterPort();
      const master = new Redis({ port: before, host: '127.0.0.1' });
      expect(await master.wait(1, 2_000)).toBe(1);
      master.disconnect();

      const { from, to } = await topology!.failover();
      expect(from).toBe(before);
      expect(await topology!.masterPort()).toBe(to);

      // The same store and locker objects carry on (ioredis asks Sentinel again on reconnect / READONLY).
      expect(await store.get(session.uploadId)).toMatchObject({ uploadedBytes: 50 });
      const next = await locker.acquire(session.uploadId, { waitMs: 5_000, requestRelease: false });
      expect(next.fence).toBeGreaterThan(lease.fence);
      expect(await store.advance(session.uploadId, 50, { uploadedBytes: 100, fence: next.fence })).toMatchObject({
        uploadedBytes: 100,
      });
      await next.release();
      const onNewMaster = new Redis({ port: to, host: '127.0.0.1' });
      try {
        expect(JSON.parse((await onNewMaster.get(store.keyFor(session.uploadId)))!)).toMatchObject({
          uploadedBytes: 100,
        });
      } finally {
        onNewMaster.disconnect();
      }
    } finally {
      await locker.close();
      await store.close();
    }
  }, 30_000);
});
