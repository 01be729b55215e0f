import { randomBytes } from 'node:crypto';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import { UploadStatus } from '../../src/sessions/upload-session.model';
import { makeTestSession } from '../../src/testing/session-store.contract';

/*
 * Redis-store cases beyond the shared contract (partition isolation, native deleteExpired, many sessions over
 * buckets), run against standalone Redis, a Cluster and Sentinel by their specs. `makeStore(partition)` returns
 * a store on the topology under test; the cases close what they create.
 */

/** Creates a store on the topology under test in the given partition. */
export type MakeRedisStore = (partition: string) => RedisSessionStore;

/** A fresh partition name, so every case starts from an empty key space. */
export const newPartition = (): string => `t${randomBytes(5).toString('hex')}`;

/** Register the cases in the current describe block. */
export function runRedisStoreCases(makeStore: MakeRedisStore): void {
  const stores: RedisSessionStore[] = [];
  const open = (partition: string) => {
    const store = makeStore(partition);
    stores.push(store);
    return store;
  };

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('keeps partitions apart on one Redis: same id in both, no listing, delete or expiry crosses over', async () => {
    const [pa, pb] = [newPartition(), newPartition()];
    const [a, b] = [open(pa), open(pb)];
    expect(a.keyPrefix).toBe(`valiblob:${pa}:session:`);
    const past = Date.now() - 1_000;
    const shared = makeTestSession({ status: UploadStatus.Complete, expiresAt: past });
    await a.save(shared);
    await b.save({ ...shared, path: 'b/other.bin' });
    const onlyA = makeTestSession({ path: 'a/only.bin' });
    await a.save(onlyA);

    expect(await b.get(onlyA.uploadId)).toBeNull();
    expect((await b.get(shared.uploadId))?.path).toBe('b/other.bin');
    expect((await b.find({ limit: 100 })).items.map((s) => s.uploadId)).toEqual([shared.uploadId]);
    expect((await b.findExpired(Date.now(), 10)).map((s) => s.path)).toEqual(['b/other.bin']);
    expect(await b.deleteMany({})).toBe(1);
    expect(await b.deleteExpired(Date.now())).toBe(0);
    // A's sessions are all still there.
    expect((await a.find({ limit: 100 })).items).toHaveLength(2);
    expect(await a.deleteExpired(Date.now())).toBe(1);
    expect(await a.get(onlyA.uploadId)).not.toBeNull();

    // Locks and quota follow the partition too.
    const [locksA, locksB] = [a.createLocks(), b.createLocks()];
    try {
      const leaseA = await locksA.uploadLocker.acquire(shared.uploadId, { waitMs: 0, requestRelease: false });
      const leaseB = await locksB.uploadLocker.acquire(shared.uploadId, { waitMs: 0, requestRelease: false });
      await Promise.all([leaseA.release(), leaseB.release()]);
      const handleA = await locksA.cleanupLock.tryAcquire();
      const handleB = await locksB.cleanupLock.tryAcquire();
      expect(handleA).not.toBeNull();
      expect(handleB).not.toBeNull();
      await Promise.all([handleA?.release(), handleB?.release()]);
    } finally {
      await Promise.all([locksA.uploadLocker.close(), locksB.uploadLocker.close()]);
    }
    const [quotaA, quotaB] = [a.createQuotaStore(), b.createQuotaStore()];
    expect(await quotaA.reserve('owner', shared.uploadId, 600, 1_000)).toBe(true);
    expect(await quotaB.reserve('owner', shared.uploadId, 900, 1_000)).toBe(true);
    expect(await quotaA.usage('owner')).toMatchObject({ reservedBytes: 600 });
    await Promise.all([quotaA.release(shared.uploadId), quotaB.release(shared.uploadId)]);
  });

  it('deleteExpired removes exactly the expired tombstones without provider state', async () => {
    const store = open(newPartition());
    const now = Date.now();
    const past = now - 60_000;
    const doomed = [UploadStatus.Complete, UploadStatus.Aborted, UploadStatus.Rejected].flatMap((status) =>
      Array.from({ length: 8 }, () => makeTestSession({ status, expiresAt: past })),
    );
    const kept = [
      ...Array.from({ length: 6 }, () => makeTestSession({ status: UploadStatus.InProgress, expiresAt: past })),
      ...Array.from({ length: 6 }, () =>
        makeTestSession({ status: UploadStatus.Complete, expiresAt: past, providerState: { uploadId: 'x' } }),
      ),
      ...Array.from({ length: 6 }, () => makeTestSession({ status: UploadStatus.Complete, expiresAt: now + 60_000 })),
      makeTestSession({ status: UploadStatus.Aborted, expiresAt: now + 1 }),
    ];
    for (const session of [...doomed, ...kept]) await store.save(session);

    expect(await store.deleteExpired(now)).toBe(doomed.length);
    for (const session of doomed) expect(await store.get(session.uploadId)).toBeNull();
    for (const session of kept) expect(await store.get(session.uploadId)).not.toBeNull();
    expect(await store.deleteExpired(now)).toBe(0);
    // The index entries went with the keys: listing sees only what is left.
    const all = await store.find({ limit: 1000 });
    expect(all.items.map((s) => s.uploadId).sort()).toEqual(kept.map((s) => s.uploadId).sort());
    expect(await store.findExpired(now, 100)).toHaveLength(12);
  });

  it('pages 250 sessions over every bucket in id order, filters across pages, finds expired oldest first', async () => {
    const store = open(newPartition());
    const base = Date.now() + 3_600_000;
    const sessions = Array.from({ length: 250 }, (_, i) =>
      makeTestSession({ path: i % 2 ? `odd/${i}` : `even/${i}`, expiresAt: base - i * 1000 }),
    );
    await Promise.all(sessions.map((s) => store.save(s)));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.find({ limit: 37, cursor, pathPrefix: 'odd/' });
      seen.push(...page.items.map((s) => s.uploadId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const odd = sessions.filter((s) => s.path.startsWith('odd/')).map((s) => s.uploadId);
    expect(seen).toEqual([...odd].sort());
    const expired = await store.findExpired(base, 5);
    expect(expired.map((s) => s.path)).toEqual(['odd/249', 'even/248', 'odd/247', 'even/246', 'odd/245']);
    expect(await store.deleteMany({ pathPrefix: 'even/' })).toBe(125);
    expect((await store.find({ limit: 1000 })).items).toHaveLength(125);
  });
}
