import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { PostgresAdvisoryCleanupLock } from '../../src/cleanup/locks/postgres-advisory-cleanup.lock';
import { ProcessCleanupLock } from '../../src/cleanup/locks/process-cleanup.lock';
import { RedisCleanupLock } from '../../src/cleanup/locks/redis-cleanup.lock';
import { PG_URL, REDIS_URL, serviceAvailable } from '../support/services';

const aborted = (signal: AbortSignal, timeoutMs: number) =>
  new Promise<boolean>((resolve) => {
    if (signal.aborted) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve(true)), { once: true });
  });

describe('ProcessCleanupLock', () => {
  it('excludes holders of the same name in this process; release is idempotent', async () => {
    const first = await new ProcessCleanupLock('p-test').tryAcquire();
    expect(first).not.toBeNull();
    expect(await new ProcessCleanupLock('p-test').tryAcquire()).toBeNull();
    const other = await new ProcessCleanupLock('p-other').tryAcquire();
    expect(other).not.toBeNull();
    await first!.release();
    await first!.release();
    const again = await new ProcessCleanupLock('p-test').tryAcquire();
    expect(again).not.toBeNull();
    await again!.release();
    await other!.release();
  });
});

describe('RedisCleanupLock (real Redis)', () => {
  let ok = false;
  let a: Redis;
  let b: Redis;
  beforeAll(async () => {
    ok = await serviceAvailable('Redis', REDIS_URL);
    if (ok) [a, b] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
  });
  afterAll(() => {
    a?.disconnect();
    b?.disconnect();
  });

  it('SET NX: one holder at a time, the next gets it after release', async () => {
    if (!ok) return;
    const key = `valiblob:test:lock:${Date.now()}:1`;
    const first = await new RedisCleanupLock(a, { key }).tryAcquire();
    expect(first).not.toBeNull();
    expect(await new RedisCleanupLock(b, { key }).tryAcquire()).toBeNull();
    expect(await a.pttl(key)).toBeGreaterThan(20_000);
    await first!.release();
    expect(await a.exists(key)).toBe(0);
    const second = await new RedisCleanupLock(b, { key }).tryAcquire();
    expect(second).not.toBeNull();
    await second!.release();
  });

  it('heartbeat keeps the lease alive past its TTL', async () => {
    if (!ok) return;
    const key = `valiblob:test:lock:${Date.now()}:2`;
    const handle = await new RedisCleanupLock(a, { key, ttlMs: 1000 }).tryAcquire();
    await new Promise((r) => setTimeout(r, 1800));
    expect(handle!.signal.aborted).toBe(false);
    expect(await new RedisCleanupLock(b, { key, ttlMs: 1000 }).tryAcquire()).toBeNull();
    await handle!.release();
  });

  it('a holder that lost its lease aborts its signal and its release never deletes the new holder', async () => {
    if (!ok) return;
    const key = `valiblob:test:lock:${Date.now()}:3`;
    const stale = await new RedisCleanupLock(a, { key, ttlMs: 1000 }).tryAcquire();
    // Simulate the lease running out while the holder was paused, and another instance taking over.
    await b.del(key);
    const fresh = await new RedisCleanupLock(b, { key, ttlMs: 1000 }).tryAcquire();
    expect(fresh).not.toBeNull();
    expect(await aborted(stale!.signal, 1500)).toBe(true);
    await stale!.release();
    expect(await b.exists(key)).toBe(1);
    await fresh!.release();
    expect(await b.exists(key)).toBe(0);
  });
});

describe('PostgresAdvisoryCleanupLock (real PostgreSQL)', () => {
  let ok = false;
  let a: DataSource;
  let b: DataSource;
  beforeAll(async () => {
    ok = await serviceAvailable('PostgreSQL', PG_URL);
    if (!ok) return;
    [a, b] = [new DataSource({ type: 'postgres', url: PG_URL }), new DataSource({ type: 'postgres', url: PG_URL })];
    await Promise.all([a.initialize(), b.initialize()]);
  });
  afterAll(async () => {
    if (a?.isInitialized) await a.destroy();
    if (b?.isInitialized) await b.destroy();
  });

  it('pg_try_advisory_lock: one holder across connection pools, free again after release', async () => {
    if (!ok) return;
    const name = `t-${Date.now()}-1`;
    const first = await new PostgresAdvisoryCleanupLock(a, { name }).tryAcquire();
    expect(first).not.toBeNull();
    expect(await new PostgresAdvisoryCleanupLock(b, { name }).tryAcquire()).toBeNull();
    await first!.release();
    await first!.release();
    const second = await new PostgresAdvisoryCleanupLock(b, { name }).tryAcquire();
    expect(second).not.toBeNull();
    await second!.release();
  });

  it('when the holding connection dies, PostgreSQL frees the lock and the holder is told', async () => {
    if (!ok) return;
    const name = `t-${Date.now()}-2`;
    const lock = new PostgresAdvisoryCleanupLock(a, { name });
    const holder = await lock.tryAcquire();
    expect(holder).not.toBeNull();
    const [{ pid }] = await b.query(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted ` +
        `AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
      [lock.key],
    );
    await b.query('SELECT pg_terminate_backend($1)', [pid]);
    expect(await aborted(holder!.signal, 3000)).toBe(true);
    // pg_terminate_backend returns before the backend has exited and dropped its locks: poll for a bounded time.
    let next = await new PostgresAdvisoryCleanupLock(b, { name }).tryAcquire();
    for (let i = 0; next === null && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      next = await new PostgresAdvisoryCleanupLock(b, { name }).tryAcquire();
    }
    expect(next).not.toBeNull();
    await holder!.release();
    await next!.release();
  });
});
