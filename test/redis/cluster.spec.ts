import Redis, { Cluster } from 'ioredis';
import { keySlot } from '../../src/sessions/redis/redis-key-slot';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import { makeTestSession } from '../../src/testing/session-store.contract';
import {
  RedisClusterTopology,
  redisServerAvailable,
  startRedisCluster,
  stopRedisTopologies,
} from '../support/redis-topology';
import { newPartition } from './redis-store.cases';
import { runRedisTopologyCases } from './redis-topology.cases';

/*
 * A real 3-master Redis Cluster (redis-server --cluster-enabled, even slot split by `redis-cli --cluster create`)
 * on loopback ports, torn down after the suite: the session store contract, the Redis-store cases, the locker
 * over Cluster pub/sub, and proof that sessions spread over every master.
 */

const available = redisServerAvailable();

describe('Redis Cluster, 3 masters (real)', () => {
  let topology: RedisClusterTopology | undefined;
  let admin: Cluster;

  const connection = () => {
    if (!topology) throw new Error('Redis Cluster unavailable: see the SKIPPING message above');
    return { cluster: topology.nodes };
  };

  beforeAll(async () => {
    if (!(await available)) return;
    topology = await startRedisCluster({ masters: 3 });
    admin = new Cluster(topology.nodes);
  }, 60_000);

  afterAll(async () => {
    admin?.disconnect();
    await topology?.stop();
    await stopRedisTopologies();
  });

  runRedisTopologyCases('redis cluster (16 buckets)', connection, () => admin, 'RedisUploadLocker on the Cluster');

  it('spreads sessions over every master: keys on each node, bucket slots owned by all three', async () => {
    const store = new RedisSessionStore({ connection: connection(), partition: newPartition() });
    try {
      expect(store.bucketCount).toBe(16);
      const sessions = Array.from({ length: 120 }, () => makeTestSession());
      await Promise.all(sessions.map((s) => store.save(s)));

      // Which master owns which slot, as the cluster itself reports it.
      const ranges = await admin.cluster('SLOTS');
      const ownerOf = (slot: number) => ranges.find(([from, to]) => slot >= from && slot <= to)![2][1];
      const bucketOwners = new Set<number>();
      for (const key of store.indexKeys()) {
        const slot = Number(await admin.cluster('KEYSLOT', key));
        expect(slot).toBe(keySlot(key));
        bucketOwners.add(ownerOf(slot));
      }
      expect([...bucketOwners].sort()).toEqual(topology!.nodes.map((n) => n.port).sort());

      // Every master holds session keys (and each session sits in its bucket's slot with that bucket's indexes).
      for (const node of topology!.nodes) {
        const direct = new Redis({ host: node.host, port: node.port });
        try {
          const keys = await direct.keys(`${store.keyPrefix}*`);
          expect(keys.filter((k) => !k.endsWith('#ids') && !k.endsWith('#expiry')).length).toBeGreaterThan(10);
        } finally {
          direct.disconnect();
        }
      }
      const one = sessions[0];
      const tag = /\{[^}]+\}/.exec(store.keyFor(one.uploadId))![0];
      expect(await admin.zscore(`${store.keyPrefix}${tag}:#ids`, one.uploadId)).toBe('0');
      expect((await store.find({ limit: 1000 })).items).toHaveLength(120);
    } finally {
      await store.close();
    }
  });

  it('keeps a hash-tagged prefix working on one slot (pinned layout); refuses no tag with 1 bucket', async () => {
    const keyPrefix = `{vb${newPartition()}}:session:`;
    const store = new RedisSessionStore({ connection: connection(), keyPrefix });
    try {
      expect(store.bucketCount).toBe(1);
      const sessions = Array.from({ length: 20 }, () => makeTestSession());
      for (const s of sessions) await store.save(s);
      expect((await store.find({ limit: 100 })).items).toHaveLength(20);
      const slots = new Set(sessions.map((s) => keySlot(store.keyFor(s.uploadId))));
      expect(slots.size).toBe(1);
      const quota = store.createQuotaStore();
      expect(await quota.reserve('owner', sessions[0].uploadId, 5, 10)).toBe(true);
      await quota.release(sessions[0].uploadId);
    } finally {
      await store.close();
    }
    expect(() => new RedisSessionStore({ connection: connection(), keyPrefix: 'plain:', buckets: 1 })).toThrow(
      /hash tag/,
    );
  });

  it('runs quota scripts and the cleanup lock on the Cluster with the default prefixes', async () => {
    const store = new RedisSessionStore({ connection: connection(), partition: newPartition() });
    const locks = store.createLocks();
    try {
      const quota = store.createQuotaStore();
      const session = makeTestSession();
      expect(await quota.reserve('owner', session.uploadId, 600, 1_000)).toBe(true);
      expect(await quota.reserve('owner', makeTestSession().uploadId, 600, 1_000)).toBe(false);
      await quota.commit('owner', session.uploadId, 'a/b.bin', 600);
      expect(await quota.usage('owner')).toMatchObject({ usedBytes: 600, reservedBytes: 0 });
      const handle = await locks.cleanupLock.tryAcquire();
      expect(handle).not.toBeNull();
      expect(await locks.cleanupLock.tryAcquire()).toBeNull();
      await handle!.release();
    } finally {
      await locks.uploadLocker.close();
      await store.close();
    }
  });
});
