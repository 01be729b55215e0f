import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { RedisUploadLocker } from '../../src/locking/redis/redis-upload.locker';
import { RedisQuotaStore } from '../../src/policy/quota/redis-quota.store';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import { makeTestSession, runSessionStoreContract } from '../../src/testing/session-store.contract';
import { REDIS_URL, serviceAvailable } from '../support/services';
import { runRedisStoreCases } from './redis-store.cases';

// Decided before the suite is declared: skipped loudly when Redis is down, a failure under CI=true.
const available = serviceAvailable('Redis', REDIS_URL);

describe('RedisSessionStore buckets and partitions (standalone Redis)', () => {
  let admin: Redis;
  const patterns: string[] = [];

  beforeAll(async () => {
    if (await available) admin = new Redis(REDIS_URL);
  });

  beforeEach(async () => {
    if (!(await available)) throw new Error('Redis unavailable: see the SKIPPING message above');
  });

  afterAll(async () => {
    if (!admin) return;
    // Leave nothing behind for the engineers sharing this Redis.
    for (const pattern of patterns) {
      const keys = await admin.keys(pattern);
      if (keys.length > 0) await admin.del(...keys);
    }
    await admin.quit();
  });

  const track = (prefix: string) => patterns.push(`${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`);

  runSessionStoreContract('redis, 7 buckets', async () => {
    const keyPrefix = `vbtest:${randomBytes(6).toString('hex')}:session:`;
    track(keyPrefix);
    const store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix, buckets: 7 });
    return { store, dispose: () => store.close() };
  });

  describe('default layout (one bucket), partitions', () => {
    runRedisStoreCases((partition) => {
      track(`valiblob:${partition}:`);
      return new RedisSessionStore({ connection: REDIS_URL, partition });
    });
  });

  describe('5 buckets, partitions', () => {
    runRedisStoreCases((partition) => {
      track(`valiblob:${partition}:`);
      return new RedisSessionStore({ connection: REDIS_URL, partition, buckets: 5 });
    });
  });

  it('keeps the single-index key layout of earlier releases by default (existing keys stay readable)', async () => {
    const keyPrefix = `vbtest:${randomBytes(6).toString('hex')}:session:`;
    track(keyPrefix);
    const session = makeTestSession();
    // Written the way earlier releases did: plain key, `#expiry` and `#ids` next to it.
    await admin.set(`${keyPrefix}${session.uploadId}`, JSON.stringify(session), 'PX', 60_000);
    await admin.zadd(`${keyPrefix}#expiry`, session.expiresAt, session.uploadId);
    await admin.zadd(`${keyPrefix}#ids`, 0, session.uploadId);
    const store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix });
    try {
      expect(store.bucketCount).toBe(1);
      expect(store.keyFor(session.uploadId)).toBe(`${keyPrefix}${session.uploadId}`);
      expect(store.indexKeys()).toEqual([`${keyPrefix}#ids`]);
      expect(await store.get(session.uploadId)).toMatchObject({ uploadId: session.uploadId });
      expect((await store.find({})).items.map((s) => s.uploadId)).toEqual([session.uploadId]);
    } finally {
      await store.close();
    }
  });

  it('puts a bucketed session, and its bucket indexes, under one hash tag', async () => {
    const keyPrefix = `vbtest:${randomBytes(6).toString('hex')}:session:`;
    track(keyPrefix);
    const store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix, buckets: 4 });
    try {
      const session = makeTestSession();
      await store.save(session);
      const key = store.keyFor(session.uploadId);
      const tag = /\{([^}]+)\}/.exec(key)![1];
      expect(key).toBe(`${keyPrefix}{${tag}}:${session.uploadId}`);
      expect(await admin.zscore(`${keyPrefix}{${tag}}:#ids`, session.uploadId)).toBe('0');
      expect(await admin.zscore(`${keyPrefix}{${tag}}:#expiry`, session.uploadId)).toBe(String(session.expiresAt));
      expect(store.indexKeys()).toHaveLength(4);
    } finally {
      await store.close();
    }
  });

  it('findExpired over buckets skips and prunes keys Redis already dropped, still filling the page', async () => {
    const keyPrefix = `vbtest:${randomBytes(6).toString('hex')}:session:`;
    track(keyPrefix);
    const store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix, buckets: 4 });
    try {
      const now = Date.now();
      const sessions = Array.from({ length: 12 }, (_, i) => makeTestSession({ expiresAt: now - 10_000 + i }));
      for (const session of sessions) await store.save(session);
      // The 6 oldest keys vanish behind the store's back (their TTL ran out): only index entries remain.
      for (const session of sessions.slice(0, 6)) await admin.del(store.keyFor(session.uploadId));
      const found = await store.findExpired(now, 4);
      expect(found.map((s) => s.uploadId)).toEqual(sessions.slice(6, 10).map((s) => s.uploadId));
      for (const session of sessions.slice(0, 6)) {
        const idsKey = store.keyFor(session.uploadId).replace(session.uploadId, '#ids');
        expect(await admin.zscore(idsKey, session.uploadId)).toBeNull();
      }
    } finally {
      await store.close();
    }
  });

  it('inserts the partition into the locker and quota prefixes (default and explicit)', async () => {
    const locker = new RedisUploadLocker({ connection: REDIS_URL, partition: 'p1' });
    const custom = new RedisUploadLocker({ connection: REDIS_URL, partition: 'p1', keyPrefix: 'app:lock:' });
    try {
      expect(locker.lockKey('x')).toBe('valiblob:p1:lock:{x}');
      expect(custom.lockKey('x')).toBe('app:p1:lock:{x}');
      expect(new RedisQuotaStore(admin, { partition: 'p1' }).keyFor('o')).toBe('valiblob:p1:quota:k:o');
      const store = new RedisSessionStore({ client: admin, keyPrefix: 'app:session:', partition: 'p1' });
      expect(store.keyPrefix).toBe('app:p1:session:');
      expect(store.createQuotaStore().keyFor('o')).toBe('app:p1:quota:k:o');
      expect(store.createQuotaStore()).toBeInstanceOf(RedisQuotaStore);
      await store.close();
    } finally {
      await Promise.all([locker.close(), custom.close()]);
    }
  });

  it('rejects bad buckets and partition options, and buckets with a hash-tagged prefix', () => {
    for (const buckets of [0, -1, 1.5, 257]) {
      expect(() => new RedisSessionStore({ connection: REDIS_URL, buckets })).toThrow(/buckets must be an integer/);
    }
    for (const partition of ['', 'a:b', 'a{b}', 'x'.repeat(65), 'a b', 'a*']) {
      expect(() => new RedisSessionStore({ connection: REDIS_URL, partition })).toThrow(/partition must be/);
    }
    expect(() => new RedisUploadLocker({ connection: REDIS_URL, partition: 'a:b' })).toThrow(/partition must be/);
    expect(() => new RedisQuotaStore(admin, { partition: 'a}' })).toThrow(/partition must be/);
    expect(() => new RedisSessionStore({ connection: REDIS_URL, keyPrefix: '{vb}:session:', buckets: 4 })).toThrow(
      /hash tag/,
    );
  });
});
