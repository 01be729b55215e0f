import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { StoreUnavailableError, UploadLockedError } from '../../src/errors/vali-blob.errors';
import { RedisUploadLocker, RedisUploadLockerOptions } from '../../src/locking/redis/redis-upload.locker';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import { makeTestSession } from '../../src/testing/session-store.contract';
import { REDIS_URL, serviceAvailable } from '../support/services';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newId = () => randomBytes(12).toString('base64url');

describe('RedisUploadLocker (two connections, real Redis)', () => {
  let available = false;
  let admin: Redis;
  let prefix: string;
  let lockers: RedisUploadLocker[] = [];

  /** A locker on its own connection, as a separate instance of the app would have. */
  const locker = (options: RedisUploadLockerOptions = {}) => {
    const created = new RedisUploadLocker({ connection: REDIS_URL, keyPrefix: prefix, ...options });
    lockers.push(created);
    return created;
  };

  beforeAll(async () => {
    available = await serviceAvailable('Redis', REDIS_URL);
    if (available) admin = new Redis(REDIS_URL);
  });

  beforeEach(() => {
    if (!available) throw new Error('Redis unavailable: see the SKIPPING message above');
    prefix = `vbtest:${randomBytes(6).toString('hex')}:lock:`;
    lockers = [];
  });

  afterEach(async () => {
    await Promise.all(lockers.map((l) => l.close()));
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  });

  afterAll(async () => {
    await admin?.quit();
  });

  it('excludes writers on different connections from each other', async () => {
    const [a, b] = [locker(), locker()];
    const id = newId();
    let inside = 0;
    let maxInside = 0;
    let entered = 0;
    const worker = async (l: RedisUploadLocker) => {
      for (let i = 0; i < 8; i++) {
        const lease = await l.acquire(id, { waitMs: 10_000, requestRelease: false });
        inside++;
        entered++;
        maxInside = Math.max(maxInside, inside);
        await sleep(5);
        inside--;
        await lease.release();
      }
    };
    await Promise.all([worker(a), worker(b), worker(a), worker(b)]);
    expect(entered).toBe(32);
    expect(maxInside).toBe(1);
  });

  it('gives up after waitMs with UploadLockedError (423), and at once with waitMs 0', async () => {
    const [a, b] = [locker(), locker()];
    const id = newId();
    const lease = await a.acquire(id, { waitMs: 0, requestRelease: false });
    await expect(b.acquire(id, { waitMs: 0, requestRelease: false })).rejects.toBeInstanceOf(UploadLockedError);
    const started = Date.now();
    const error = await b.acquire(id, { waitMs: 400, requestRelease: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPLOAD_LOCKED', status: 423 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(Date.now() - started).toBeLessThan(1_500);
    await lease.release();
  });

  it('hands over to a waiter on another connection as soon as the holder releases', async () => {
    const [a, b] = [locker(), locker({ retryIntervalMs: 5_000 })];
    const id = newId();
    const lease = await a.acquire(id, { waitMs: 0, requestRelease: false });
    const waiting = b.acquire(id, { waitMs: 10_000, requestRelease: false });
    await sleep(200);
    const releasedAt = Date.now();
    await lease.release();
    const next = await waiting;
    // The waiter polls only every 5 s here: getting it within a fraction of that proves the free notice woke it.
    expect(Date.now() - releasedAt).toBeLessThan(1_000);
    expect(next.fence).toBeGreaterThan(lease.fence);
    await next.release();
  });

  it("only the owner token releases: a holder whose lease expired cannot delete the next owner's lock", async () => {
    const [a, b] = [locker({ leaseTtlMs: 3_000 }), locker()];
    const id = newId();
    const stale = await a.acquire(id, { waitMs: 0, requestRelease: false });
    // Simulate the lease running out while A was paused (GC, network): the key vanishes, B takes the upload.
    await admin.del(a.lockKey(id));
    const fresh = await b.acquire(id, { waitMs: 0, requestRelease: false });
    const bToken = await admin.get(b.lockKey(id));
    await stale.release();
    expect(await admin.get(b.lockKey(id))).toBe(bToken);
    await expect(a.acquire(id, { waitMs: 0, requestRelease: false })).rejects.toBeInstanceOf(UploadLockedError);
    await fresh.release();
    expect(await admin.exists(b.lockKey(id))).toBe(0);
  });

  it('keeps the lease alive with heartbeats well past its TTL', async () => {
    const [a, b] = [locker({ leaseTtlMs: 300 }), locker()];
    const id = newId();
    const lease = await a.acquire(id, { waitMs: 0, requestRelease: false });
    for (let i = 0; i < 6; i++) {
      await sleep(250);
      await expect(b.acquire(id, { waitMs: 0, requestRelease: false })).rejects.toBeInstanceOf(UploadLockedError);
    }
    expect(await admin.pttl(a.lockKey(id))).toBeGreaterThan(0);
    expect(lease.signal.aborted).toBe(false);
    await lease.release();
  });

  it("lets a dead holder's lease expire, another connection takes over, the dead lease's signal aborts", async () => {
    const a = locker({ leaseTtlMs: 600, timeoutMs: 200 });
    const b = locker();
    const id = newId();
    const lease = await a.acquire(id, { waitMs: 0, requestRelease: false });
    // A's connection dies: it can no longer extend, as if its instance had crashed or been cut off.
    a.client.disconnect();
    const started = Date.now();
    const next = await b.acquire(id, { waitMs: 5_000, requestRelease: true });
    const took = Date.now() - started;
    expect(took).toBeLessThan(1_500);
    await sleep(300);
    expect(lease.signal.aborted).toBe(true);
    await expect(lease.release()).resolves.toBeUndefined();
    expect(await admin.get(b.lockKey(id))).not.toBeNull();
    await next.release();
  });

  it('aborts the signal when another owner took the key', async () => {
    const a = locker({ leaseTtlMs: 300 });
    const id = newId();
    const lease = await a.acquire(id, { waitMs: 0, requestRelease: false });
    await admin.set(a.lockKey(id), 'someone-else', 'PX', 10_000);
    await sleep(250);
    expect(lease.signal.aborted).toBe(true);
    expect(await admin.get(a.lockKey(id))).toBe('someone-else');
  });

  it("asks the other connection's holder to let go (holder callback, not the contender's), then proceeds", async () => {
    const [a, b] = [locker(), locker()];
    const id = newId();
    const holderAsked: number[] = [];
    const contenderAsked: number[] = [];
    let lease = await a.acquire(id, {
      waitMs: 0,
      requestRelease: true,
      onReleaseRequested: () => {
        holderAsked.push(Date.now());
        // What the engine does: stop reading, keep what was written, release.
        void lease.release();
      },
    });
    const started = Date.now();
    const next = await b.acquire(id, {
      waitMs: 5_000,
      requestRelease: true,
      onReleaseRequested: () => contenderAsked.push(Date.now()),
    });
    expect(holderAsked).toHaveLength(1);
    expect(contenderAsked).toHaveLength(0);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(next.fence).toBeGreaterThan(lease.fence);
    // Now B holds; a request from A asks B.
    const third = a.acquire(id, { waitMs: 300, requestRelease: true });
    await expect(third).rejects.toBeInstanceOf(UploadLockedError);
    expect(contenderAsked).toHaveLength(1);
    await next.release();
    lease = await a.acquire(id, { waitMs: 0, requestRelease: false });
    await lease.release();
  });

  it('does not ask the holder when requestRelease is false', async () => {
    const [a, b] = [locker(), locker()];
    const id = newId();
    let asked = 0;
    const lease = await a.acquire(id, { waitMs: 0, requestRelease: true, onReleaseRequested: () => asked++ });
    await expect(b.acquire(id, { waitMs: 400, requestRelease: false })).rejects.toBeInstanceOf(UploadLockedError);
    expect(asked).toBe(0);
    await lease.release();
  });

  it('hands out strictly increasing fences across connections, which the Redis store enforces', async () => {
    const [a, b] = [locker(), locker()];
    const id = newId();
    const fences: number[] = [];
    for (let i = 0; i < 10; i++) {
      const lease = await (i % 2 ? b : a).acquire(id, { waitMs: 1_000, requestRelease: false });
      fences.push(lease.fence);
      await lease.release();
    }
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]);
    expect(fences.every(Number.isSafeInteger)).toBe(true);

    // Even if the counter key is lost, the next fence is still higher (it never drops below Redis's clock).
    await admin.del(`${a.lockKey(id)}:fence`);
    const after = await a.acquire(id, { waitMs: 0, requestRelease: false });
    expect(after.fence).toBeGreaterThan(fences[fences.length - 1]);
    await after.release();

    // A paused former holder (older fence) cannot advance the session once a newer holder wrote.
    const store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix: `${prefix}session:` });
    try {
      const session = makeTestSession();
      await store.save(session);
      const old = await a.acquire(session.uploadId, { waitMs: 0, requestRelease: false });
      await admin.del(a.lockKey(session.uploadId)); // its lease "expired" while it was paused
      const newer = await b.acquire(session.uploadId, { waitMs: 0, requestRelease: false });
      expect(await store.advance(session.uploadId, 0, { uploadedBytes: 10, fence: newer.fence })).toMatchObject({
        uploadedBytes: 10,
      });
      expect(await store.advance(session.uploadId, 10, { uploadedBytes: 20, fence: old.fence })).toBeNull();
      expect((await store.get(session.uploadId))?.uploadedBytes).toBe(10);
      await newer.release();
      await old.release();
    } finally {
      await store.close();
    }
  });

  it('keeps the fence counter at least as long as fenceTtlMs', async () => {
    const a = locker({ fenceTtlMs: 2 * 24 * 3_600_000 });
    const id = newId();
    const lease = await a.acquire(id, { waitMs: 0, requestRelease: false });
    expect(await admin.pttl(`${a.lockKey(id)}:fence`)).toBeGreaterThan(47 * 3_600_000);
    await lease.release();
  });

  it('releases everything on close', async () => {
    const [a, b] = [locker(), locker()];
    const ids = [newId(), newId()];
    const leases = await Promise.all(ids.map((id) => a.acquire(id, { waitMs: 0, requestRelease: false })));
    await a.close();
    expect(leases.every((l) => l.signal.aborted === false)).toBe(true);
    for (const id of ids) await (await b.acquire(id, { waitMs: 0, requestRelease: false })).release();
    await expect(a.acquire(ids[0], { waitMs: 0, requestRelease: false })).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('RedisUploadLocker when Redis is unreachable', () => {
  it('fails acquire fast with StoreUnavailableError', async () => {
    const l = new RedisUploadLocker({ connection: 'redis://127.0.0.1:1', timeoutMs: 500 });
    try {
      const started = Date.now();
      await expect(l.acquire('x', { waitMs: 1_000, requestRelease: true })).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      await l.close();
    }
  });
});
