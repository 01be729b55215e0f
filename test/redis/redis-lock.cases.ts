import { randomBytes } from 'node:crypto';
import { UploadLockedError } from '../../src/errors/vali-blob.errors';
import { RedisUploadLocker } from '../../src/locking/redis/redis-upload.locker';
import type { RedisClient } from '../../src/sessions/redis/redis-connection';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import { makeTestSession } from '../../src/testing/session-store.contract';

/*
 * RedisUploadLocker cases for a Redis topology (Cluster, Sentinel): exclusion across connections, the free
 * notice and release request over pub/sub, owner-token release, fencing enforced by the session store.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newId = () => randomBytes(12).toString('base64url');

/** What the cases need from the topology under test. */
export interface LockTopology {
  /** A locker on its own connection (as another app instance would have), with these options. */
  locker(options?: { retryIntervalMs?: number; leaseTtlMs?: number; keyPrefix?: string }): RedisUploadLocker;
  /** A session store on its own connection with this key prefix. */
  store(keyPrefix: string): RedisSessionStore;
  /** An admin client on the topology. */
  admin(): RedisClient;
}

/** Register the cases in the current describe block. */
export function runRedisLockCases(topology: () => LockTopology): void {
  let created: Array<{ close(): Promise<void> }> = [];
  let prefix: string;
  const locker = (options: Parameters<LockTopology['locker']>[0] = {}) => {
    const l = topology().locker({ keyPrefix: prefix, ...options });
    created.push(l);
    return l;
  };

  beforeEach(() => {
    prefix = `vbtest:${randomBytes(6).toString('hex')}:lock:`;
    created = [];
  });

  afterEach(async () => {
    await Promise.all(created.map((c) => c.close()));
  });

  it('excludes writers on different connections from each other', async () => {
    const [a, b] = [locker(), locker()];
    const id = newId();
    let inside = 0;
    let maxInside = 0;
    const worker = async (l: RedisUploadLocker) => {
      for (let i = 0; i < 5; i++) {
        const lease = await l.acquire(id, { waitMs: 10_000, requestRelease: false });
        maxInside = Math.max(maxInside, ++inside);
        await sleep(3);
        inside--;
        await lease.release();
      }
    };
    await Promise.all([worker(a), worker(b), worker(a), worker(b)]);
    expect(maxInside).toBe(1);
    await expect(a.acquire(id, { waitMs: 0, requestRelease: false }).then((l) => l.release())).resolves.toBe(undefined);
  });

  it('wakes a waiter on another connection through the free notice (pub/sub), not its 5 s poll', async () => {
    const [a, b] = [locker(), locker({ retryIntervalMs: 5_000 })];
    const id = newId();
    const lease = await a.acquire(id, { waitMs: 0, requestRelease: false });
    const waiting = b.acquire(id, { waitMs: 10_000, requestRelease: false });
    await sleep(300);
    const releasedAt = Date.now();
    await lease.release();
    const next = await waiting;
    expect(Date.now() - releasedAt).toBeLessThan(1_000);
    expect(next.fence).toBeGreaterThan(lease.fence);
    await next.release();
  });

  it("asks the other connection's holder to let go (pub/sub release request), then proceeds", async () => {
    const [a, b] = [locker(), locker()];
    const id = newId();
    const holderAsked: number[] = [];
    const contenderAsked: number[] = [];
    const lease = await a.acquire(id, {
      waitMs: 0,
      requestRelease: true,
      onReleaseRequested: () => {
        holderAsked.push(Date.now());
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
    expect(Date.now() - started).toBeLessThan(1_500);
    await expect(a.acquire(id, { waitMs: 0, requestRelease: false })).rejects.toBeInstanceOf(UploadLockedError);
    await next.release();
  });

  it("releases by owner token only, and the store refuses an older holder's fence", async () => {
    const [a, b] = [locker(), locker()];
    const admin = topology().admin();
    const store = topology().store(`${prefix}session:`);
    created.push(store);
    const session = makeTestSession();
    await store.save(session);
    const id = session.uploadId;
    const old = await a.acquire(id, { waitMs: 0, requestRelease: false });
    // The old holder's lease "expired" while it was paused: the key vanishes, B takes the upload.
    await admin.del(a.lockKey(id));
    const newer = await b.acquire(id, { waitMs: 0, requestRelease: false });
    expect(newer.fence).toBeGreaterThan(old.fence);
    await old.release();
    expect(await admin.exists(b.lockKey(id))).toBe(1);
    expect(await store.advance(id, 0, { uploadedBytes: 10, fence: newer.fence })).toMatchObject({ uploadedBytes: 10 });
    expect(await store.advance(id, 10, { uploadedBytes: 20, fence: old.fence })).toBeNull();
    await newer.release();
    expect(await admin.exists(b.lockKey(id))).toBe(0);
  });
}
