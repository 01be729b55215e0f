import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { AddressInfo, createServer, Socket } from 'node:net';
import { StoreUnavailableError } from '../../../src/errors/vali-blob.errors';
import { RedisQuotaStore } from '../../../src/policy/quota/redis-quota.store';
import { closeRedisClient, openRedisClient } from '../../../src/sessions/redis/redis-connection';
import { RedisSessionStore } from '../../../src/sessions/redis/redis-session.store';
import { runQuotaStoreContract } from '../../../src/testing';
import { REDIS_URL, serviceAvailable } from '../../support/services';

// Decided before the suite is declared: skipped loudly when Redis is down, a failure under CI=true.
const available = serviceAvailable('Redis', REDIS_URL);

describe('RedisQuotaStore (real Redis)', () => {
  let admin: Redis;
  const clients: Redis[] = [];
  // A hash tag in the prefix, as Redis Cluster needs: the layout must work with it.
  const run = randomBytes(6).toString('hex');
  const prefix = (label: string) => `{vbtest-${run}}:${label}:quota:`;

  beforeAll(async () => {
    if (!(await available)) return;
    admin = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
    if (!admin) return;
    // Leave nothing behind for the engineers sharing this Redis.
    const keys = await admin.keys(`{vbtest-${run}}:*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  const client = () => {
    const c = new Redis(REDIS_URL);
    clients.push(c);
    return c;
  };

  // Two clients (two connections), as two instances would have.
  runQuotaStoreContract('redis', async () => {
    if (!(await available)) throw new Error('Redis unavailable');
    const keyPrefix = prefix('contract');
    return {
      store: new RedisQuotaStore(client(), { keyPrefix }),
      peer: new RedisQuotaStore(client(), { keyPrefix }),
    };
  });

  it('removes every key of a quota key once nothing is reserved or used', async () => {
    const keyPrefix = prefix('tidy');
    const store = new RedisQuotaStore(client(), { keyPrefix });
    await store.reserve('o', 'u1', 10, 100);
    await store.reserve('o', 'u2', 10, 100);
    await store.commit('o', 'u2', 'b.bin', 9);
    expect((await admin.keys(`${keyPrefix}*`)).sort()).toEqual([`${keyPrefix}k:o`, `${keyPrefix}u:u1`]);
    await store.release('u1');
    await store.forgetBlob('o', 'b.bin');
    expect(await admin.keys(`${keyPrefix}*`)).toEqual([]);
  });

  it('moves a reservation when the same upload reserves under another key', async () => {
    const store = new RedisQuotaStore(client(), { keyPrefix: prefix('move') });
    expect(await store.reserve('a', 'u', 40, 100)).toBe(true);
    expect(await store.reserve('b', 'u', 30, 100)).toBe(true);
    expect(await store.usage('a')).toEqual({ key: 'a', usedBytes: 0, reservedBytes: 0 });
    expect(await store.usage('b')).toEqual({ key: 'b', usedBytes: 0, reservedBytes: 30 });
    await store.release('u');
    expect(await store.usage('b')).toEqual({ key: 'b', usedBytes: 0, reservedBytes: 0 });
  });

  it('RedisSessionStore.createQuotaStore() shares its client, with quota: next to session:', async () => {
    const sessions = new RedisSessionStore({
      client: client(),
      keyPrefix: prefix('wired').replace(/quota:$/, 'session:'),
    });
    const quota = sessions.createQuotaStore();
    expect(quota).toBeInstanceOf(RedisQuotaStore);
    expect(quota.keyFor('owner')).toBe(`${prefix('wired')}k:owner`);
    await quota.commit('owner', 'u', 'x.bin', 3);
    expect(await admin.hget(`${prefix('wired')}k:owner`, 'used')).toBe('3');
    // An explicit prefix wins.
    const custom = new RedisSessionStore({ client: client(), quota: { keyPrefix: prefix('custom') } });
    expect(custom.createQuotaStore().keyFor('o')).toBe(`${prefix('custom')}k:o`);
  });

  it('Redis hung: every operation is StoreUnavailableError (503) once the timeout passes', async () => {
    // A server that accepts connections and never answers, like a Redis stuck behind a dead network path.
    const sockets = new Set<Socket>();
    const hung = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const port = (hung.address() as AddressInfo).port;
    const down = openRedisClient({ connection: `redis://127.0.0.1:${port}`, timeoutMs: 500 }, 'quota test');
    const store = new RedisQuotaStore(down.client, { timeoutMs: 500 });
    try {
      const started = Date.now();
      const outcomes = await Promise.all(
        [
          ['reserve', () => store.reserve('k', 'u', 1, 10)] as const,
          ['commit', () => store.commit('k', 'u', 'p', 1)] as const,
          ['release', () => store.release('u')] as const,
          ['forgetBlob', () => store.forgetBlob('k', 'p')] as const,
          ['usage', () => store.usage('k')] as const,
        ].map(async ([name, call]) => ({
          name,
          error: await call().then(
            () => null,
            (e: unknown) => e,
          ),
        })),
      );
      for (const { name, error } of outcomes) {
        expect({ name, error }).toEqual({ name, error: expect.any(StoreUnavailableError) });
      }
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await closeRedisClient(down);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hung.close(resolve));
    }
  });

  it('refuses an empty key prefix', () => {
    expect(() => new RedisQuotaStore(client(), { keyPrefix: '' })).toThrow(/keyPrefix/);
  });
});
