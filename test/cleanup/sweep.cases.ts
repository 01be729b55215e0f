import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResumableSessionStore, UploadLocker, UploadStatus } from '../../src';
import { bootCleanupApp, CleanupApp, expire, expiredSession, fileExists, startWithData } from './cleanup-fixture';

/** A store for one test plus how to dispose of it. */
export interface StoreHandle {
  store: ResumableSessionStore;
  close(): Promise<void>;
}

/**
 * The sweep behaviour every session store must give the cleanup service. `makeStore` returns a fresh, empty
 * store; `available` is checked in beforeAll (false = skip loudly, decided by the caller).
 */
export function describeSweep(
  label: string,
  makeStore: () => Promise<StoreHandle>,
  available: () => Promise<boolean> = async () => true,
): void {
  describe(`StaleUploadCleanupService sweep on ${label}`, () => {
    let ok = false;
    let root: string;
    let handle: StoreHandle;
    let ctx: CleanupApp;

    beforeAll(async () => {
      ok = await available();
    });

    beforeEach(async () => {
      if (!ok) return;
      root = await mkdtemp(join(tmpdir(), 'vb-cleanup-'));
      handle = await makeStore();
      ctx = await bootCleanupApp(root, handle.store, { cleanup: { enabled: false, batchSize: 2 } });
    });

    afterEach(async () => {
      if (!ok) return;
      await ctx?.app.close();
      await handle?.close();
      await rm(root, { recursive: true, force: true });
    });

    it("frees expired uploads' staging data, then deletes them; purges tombstones; spares finished blobs", async () => {
      if (!ok) return;
      const { uploads, storage, cleanup, expiredEvents } = ctx;
      const store = handle.store;

      const expiredA = await startWithData(uploads, 100, 40);
      const expiredB = await startWithData(uploads, 100, 0);
      const fresh = await startWithData(uploads, 100, 10);
      const completed = await startWithData(uploads, 16, 16);
      await uploads.complete(completed);
      const abortedWithData = await startWithData(uploads, 100, 20);

      const stagingA = await storage.stagingPathOf((await store.get(expiredA))!.providerState!);
      const stagingB = await storage.stagingPathOf((await store.get(expiredB))!.providerState!);
      const stagingAborted = await storage.stagingPathOf((await store.get(abortedWithData))!.providerState!);
      const stagingFresh = await storage.stagingPathOf((await store.get(fresh))!.providerState!);
      expect(await fileExists(stagingA)).toBe(true);
      const completedPath = (await store.get(completed))!.path;
      const completedBytes = await readFile(join(root, completedPath));

      await expire(store, expiredA);
      await expire(store, expiredB);
      await expire(store, completed);
      // A tombstone whose data could not be freed when it was aborted keeps its providerState.
      await expire(store, abortedWithData, { status: UploadStatus.Aborted });

      const report = await cleanup.runOnce();
      expect(report).toMatchObject({ expired: 2, aborted: 3, purgedTombstones: 2, errors: 0, skipped: false });
      expect(report.durationMs).toBeGreaterThanOrEqual(0);

      for (const id of [expiredA, expiredB, completed, abortedWithData]) expect(await store.get(id)).toBeNull();
      for (const path of [stagingA, stagingB, stagingAborted]) expect(await fileExists(path)).toBe(false);
      // Untouched: the live upload and its data, the completed blob byte for byte.
      expect((await store.get(fresh))?.uploadedBytes).toBe(10);
      expect(await fileExists(stagingFresh)).toBe(true);
      expect((await readFile(join(root, completedPath))).equals(completedBytes)).toBe(true);
      expect(expiredEvents.sort()).toEqual([expiredA, expiredB].sort());

      // Nothing left: a second run does nothing and fires nothing.
      expect(await cleanup.runOnce()).toMatchObject({ expired: 0, aborted: 0, purgedTombstones: 0, errors: 0 });
      expect(expiredEvents).toHaveLength(2);
    });

    it('drops expired tombstones without provider state in bulk (store.deleteExpired), locked or not', async () => {
      if (!ok) return;
      const store = handle.store;
      const deleteExpired = jest.spyOn(store, 'deleteExpired');
      const deleteMany = jest.spyOn(store, 'deleteMany');
      const bulk = [UploadStatus.Complete, UploadStatus.Aborted, UploadStatus.Rejected].map((status) =>
        expiredSession({ status }),
      );
      for (const s of bulk) await store.save(s);
      // A tombstone that still holds provider data goes through the per-session sweep: freed, then deleted.
      const abortedWithData = await startWithData(ctx.uploads, 100, 20);
      const staging = await ctx.storage.stagingPathOf((await store.get(abortedWithData))!.providerState!);
      await expire(store, abortedWithData, { status: UploadStatus.Aborted });
      // Held upload locks make the per-session sweep pass a session by: only the bulk delete can remove these.
      const locker = ctx.app.get(UploadLocker);
      const leases = await Promise.all(
        bulk.map((s) => locker.acquire(s.uploadId, { waitMs: 0, requestRelease: false })),
      );
      const before = Date.now();
      try {
        const report = await ctx.cleanup.runOnce();
        expect(report).toMatchObject({ expired: 0, aborted: 1, purgedTombstones: 4, errors: 0 });
      } finally {
        for (const lease of leases) await lease.release();
      }
      expect(deleteExpired).toHaveBeenCalledTimes(1);
      expect(deleteExpired.mock.calls[0][0]).toBeGreaterThanOrEqual(before);
      expect(deleteMany).not.toHaveBeenCalled();
      for (const id of [...bulk.map((s) => s.uploadId), abortedWithData]) expect(await store.get(id)).toBeNull();
      expect(await fileExists(staging)).toBe(false);
      expect(ctx.expiredEvents).toEqual([]);
    });

    it('counts a failing session, keeps it for the next run, still ends the run (no endless batch loop)', async () => {
      if (!ok) return;
      const store = handle.store;
      // Older than the good ones, so findExpired returns them first on every page; their provider is unknown,
      // so freeing their data fails every time.
      const broken = Array.from({ length: 5 }, (_, i) =>
        expiredSession({ provider: 'gone', providerState: { staging: 'x' }, expiresAt: Date.now() - 600_000 + i }),
      );
      const good = Array.from({ length: 3 }, () => expiredSession());
      for (const s of [...broken, ...good]) await store.save(s);

      const report = await ctx.cleanup.runOnce();
      expect(report).toMatchObject({ expired: 3, errors: 5, purgedTombstones: 0 });
      for (const s of broken) expect(await store.get(s.uploadId)).not.toBeNull();
      for (const s of good) expect(await store.get(s.uploadId)).toBeNull();
      expect((await ctx.cleanup.runOnce()).errors).toBe(5);
    });

    it('leaves an upload alone while a writer holds its lock, and sweeps it once the lock is free', async () => {
      if (!ok) return;
      const id = await startWithData(ctx.uploads, 100, 5);
      await expire(handle.store, id);
      const lease = await ctx.app.get(UploadLocker).acquire(id, { waitMs: 0, requestRelease: false });
      expect(await ctx.cleanup.runOnce()).toMatchObject({ expired: 0, errors: 0 });
      expect(await handle.store.get(id)).not.toBeNull();
      await lease.release();
      expect(await ctx.cleanup.runOnce()).toMatchObject({ expired: 1, errors: 0 });
      expect(ctx.expiredEvents).toEqual([id]);
    });

    it('does not overlap runs: a runOnce during a run gets that run', async () => {
      if (!ok) return;
      for (let i = 0; i < 6; i++) await handle.store.save(expiredSession());
      const first = ctx.cleanup.runOnce();
      const second = ctx.cleanup.runOnce();
      expect(second).toBe(first);
      expect((await first).expired).toBe(6);
      expect(ctx.expiredEvents).toHaveLength(6);
    });
  });
}
