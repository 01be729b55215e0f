import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmptyPurgeFilterError, ResumableSessionStore, UploadLocker, UploadStatus } from '../../src';
import { AdminApp, bootAdminApp, fileExists, rewrite, startUpload, tag } from './admin-fixture';

/** A store for one test plus how to dispose of it. */
export interface StoreHandle {
  store: ResumableSessionStore;
  close(): Promise<void>;
}

const HOUR = 3_600_000;

/**
 * The admin API's behaviour on one session store: `find` with every filter and paging, `purge` in both modes
 * (provider data freed, quota released, events once, locked sessions left alone, empty filters refused).
 * `makeStore` returns a fresh, empty store; `available` is checked in beforeAll (false = skip loudly, as
 * `serviceAvailable` decides).
 */
export function describeAdmin(
  label: string,
  makeStore: () => Promise<StoreHandle>,
  available: () => Promise<boolean> = async () => true,
): void {
  describe(`UploadAdminService on ${label}`, () => {
    let ok = false;
    let root: string;
    let handle: StoreHandle;
    let ctx: AdminApp;

    beforeAll(async () => {
      ok = await available();
    });

    beforeEach(async () => {
      if (!ok) return;
      root = await mkdtemp(join(tmpdir(), 'vb-admin-'));
      handle = await makeStore();
      ctx = await bootAdminApp(root, handle.store);
    });

    afterEach(async () => {
      if (!ok) return;
      await ctx?.close();
      await handle?.close();
      await rm(root, { recursive: true, force: true });
    });

    it('finds by path prefix in three pages, each id once, in id order, without provider state', async () => {
      if (!ok) return;
      const t = tag();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push(await startUpload(ctx.uploads, { path: `${t}/a/${i}.bin`, bytes: i }));
      await startUpload(ctx.uploads, { path: `${t}/b/other.bin` });
      const pages = [];
      let cursor: string | undefined;
      do {
        const page = await ctx.admin.find({ pathPrefix: `${t}/a/`, limit: 3, cursor });
        pages.push(page.items.map((item) => item.uploadId));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
      const seen = pages.flat();
      expect(seen).toEqual([...ids].sort());
      const { items } = await ctx.admin.find({ pathPrefix: `${t}/a/6.bin` });
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({
        path: `${t}/a/6.bin`,
        provider: 'local',
        status: UploadStatus.InProgress,
        uploadedBytes: 6,
        totalSize: 100,
        ownerId: null,
        holdsProviderData: true,
      });
      expect(items[0]).not.toHaveProperty('providerState');
      expect(JSON.stringify(items[0])).not.toContain('staging');
      expect(typeof items[0].createdAtMs).toBe('number');
    });

    it('finds by status (one or several), owner, age (olderThanMs, createdBefore) and expiry', async () => {
      if (!ok) return;
      const t = tag();
      const pending = await startUpload(ctx.uploads, { path: `${t}/p.bin`, owner: 'alice' });
      const moving = await startUpload(ctx.uploads, { path: `${t}/m.bin`, owner: 'alice', bytes: 5 });
      const done = await startUpload(ctx.uploads, { path: `${t}/d.bin`, owner: 'bob', totalSize: 8, complete: true });
      const old = await startUpload(ctx.uploads, { path: `${t}/o.bin`, owner: 'bob' });
      await rewrite(ctx.store, old, { createdAt: Date.now() - 2 * HOUR });
      await rewrite(ctx.store, moving, { expiresAt: Date.now() - 1000 });
      const ids = async (query: Parameters<typeof ctx.admin.find>[0]) =>
        (await ctx.admin.find({ pathPrefix: `${t}/`, ...query })).items.map((item) => item.uploadId).sort();

      expect(await ids({ status: UploadStatus.Complete })).toEqual([done]);
      expect(await ids({ status: [UploadStatus.Pending, UploadStatus.Complete] })).toEqual([pending, done, old].sort());
      expect(await ids({ ownerId: 'alice' })).toEqual([pending, moving].sort());
      expect(await ids({ ownerId: 'bob', status: UploadStatus.Pending })).toEqual([old]);
      expect(await ids({ olderThanMs: HOUR })).toEqual([old]);
      expect(await ids({ createdBefore: Date.now() - HOUR })).toEqual([old]);
      // Both: the earlier instant wins.
      expect(await ids({ olderThanMs: 0, createdBefore: Date.now() - HOUR })).toEqual([old]);
      expect(await ids({ expiresBefore: Date.now() })).toEqual([moving]);
      expect(await ids({ ownerId: 'carol' })).toEqual([]);
    });

    it('refuses bad find values with INVALID_REQUEST (400)', async () => {
      if (!ok) return;
      for (const query of [
        { limit: 0 },
        { limit: 1001 },
        { limit: 2.5 },
        { status: 'Nope' },
        { status: [] },
        { olderThanMs: -1 },
        { createdBefore: Number.NaN },
        { pathPrefix: '' },
        { ownerId: 7 },
        { cursor: 'not a cursor!' },
      ]) {
        await expect(ctx.admin.find(query as never)).rejects.toMatchObject({ code: 'INVALID_REQUEST', status: 400 });
      }
    });

    it('purge abort: tombstones, staging freed on disk and in memory, quota released, one event each', async () => {
      if (!ok) return;
      const t = tag();
      const a1 = await startUpload(ctx.uploads, { path: `${t}/a/1.bin`, owner: 'alice', bytes: 40 });
      const a2 = await startUpload(ctx.uploads, { path: `${t}/a/2.bin`, owner: 'alice', bytes: 0 });
      const aMem = await startUpload(ctx.uploads, { path: `${t}/a/3.bin`, owner: 'alice', provider: 'mem', bytes: 9 });
      const aDone = await startUpload(ctx.uploads, {
        path: `${t}/a/4.bin`,
        owner: 'alice',
        totalSize: 4,
        complete: true,
      });
      const bob = await startUpload(ctx.uploads, { path: `${t}/b/1.bin`, owner: 'bob', bytes: 10 });
      const staging = async (id: string) => ctx.local.stagingPathOf((await ctx.store.get(id))!.providerState!);
      const [s1, s2, sBob] = [await staging(a1), await staging(a2), await staging(bob)];
      expect(await fileExists(s1)).toBe(true);
      expect(ctx.mem.stagedUploads).toBe(1);
      expect((await ctx.quota.usage('alice')).reservedBytes).toBe(300);

      const report = await ctx.admin.purge({ ownerId: 'alice' }, { mode: 'abort' });
      expect(report).toEqual({
        matched: 4,
        aborted: 3,
        deleted: 0,
        blobsDeleted: 0,
        locked: 0,
        skipped: 1,
        dryRun: false,
        failed: [],
      });
      for (const id of [a1, a2, aMem]) {
        const session = await ctx.store.get(id);
        expect(session).toMatchObject({ status: UploadStatus.Aborted, providerState: null });
      }
      expect(await fileExists(s1)).toBe(false);
      expect(await fileExists(s2)).toBe(false);
      expect(ctx.mem.stagedUploads).toBe(0);
      expect((await ctx.quota.usage('alice')).reservedBytes).toBe(0);
      expect((await ctx.quota.usage('alice')).usedBytes).toBe(4);
      expect([...ctx.abortedEvents].sort()).toEqual([a1, a2, aMem].sort());
      // Untouched: another owner's upload and its staging file, the completed upload.
      expect(await fileExists(sBob)).toBe(true);
      expect((await ctx.store.get(bob))?.status).toBe(UploadStatus.InProgress);
      expect((await ctx.store.get(aDone))?.status).toBe(UploadStatus.Complete);

      // Again: nothing left to abort, no second event.
      const again = await ctx.admin.purge({ ownerId: 'alice' }, { mode: 'abort' });
      expect(again).toMatchObject({ matched: 4, aborted: 0, skipped: 4 });
      expect(ctx.abortedEvents).toHaveLength(3);
    });

    it('purge delete: records gone, provider data freed first, completed blobs kept unless deleteBlobs', async () => {
      if (!ok) return;
      const t = tag();
      const live = await startUpload(ctx.uploads, { path: `${t}/live.bin`, owner: 'alice', bytes: 30 });
      const tomb = await startUpload(ctx.uploads, { path: `${t}/tomb.bin`, owner: 'alice', bytes: 3 });
      await ctx.uploads.abort(tomb);
      const keep = await startUpload(ctx.uploads, {
        path: `${t}/keep.bin`,
        owner: 'alice',
        totalSize: 5,
        complete: true,
      });
      const stagingLive = await ctx.local.stagingPathOf((await ctx.store.get(live))!.providerState!);
      const eventsBefore = ctx.abortedEvents.length;

      const report = await ctx.admin.purge({ pathPrefix: `${t}/` }, { mode: 'delete' });
      expect(report).toMatchObject({ matched: 3, aborted: 1, deleted: 3, blobsDeleted: 0, locked: 0, failed: [] });
      for (const id of [live, tomb, keep]) expect(await ctx.store.get(id)).toBeNull();
      expect(await fileExists(stagingLive)).toBe(false);
      expect(await fileExists(join(root, `${t}/keep.bin`))).toBe(true);
      expect(ctx.abortedEvents.slice(eventsBefore)).toEqual([live]);
      expect(await ctx.quota.usage('alice')).toMatchObject({ reservedBytes: 0, usedBytes: 5 });

      const gone = await startUpload(ctx.uploads, {
        path: `${t}/gone.bin`,
        owner: 'alice',
        totalSize: 6,
        complete: true,
      });
      const withBlobs = await ctx.admin.purge({ pathPrefix: `${t}/gone` }, { mode: 'delete', deleteBlobs: true });
      expect(withBlobs).toMatchObject({ matched: 1, aborted: 0, deleted: 1, blobsDeleted: 1, failed: [] });
      expect(await ctx.store.get(gone)).toBeNull();
      expect(await fileExists(join(root, `${t}/gone.bin`))).toBe(false);
      expect(await fileExists(join(root, `${t}/keep.bin`))).toBe(true);
      expect(await ctx.quota.usage('alice')).toMatchObject({ reservedBytes: 0, usedBytes: 5 });
    });

    it('dryRun counts what a purge would do and changes nothing', async () => {
      if (!ok) return;
      const t = tag();
      const live = await startUpload(ctx.uploads, { path: `${t}/live.bin`, bytes: 7 });
      const done = await startUpload(ctx.uploads, { path: `${t}/done.bin`, totalSize: 3, complete: true });
      const staging = await ctx.local.stagingPathOf((await ctx.store.get(live))!.providerState!);
      const before = [await ctx.store.get(live), await ctx.store.get(done)];

      const dry = await ctx.admin.purge({ pathPrefix: `${t}/` }, { mode: 'delete', deleteBlobs: true, dryRun: true });
      expect(dry).toEqual({
        matched: 2,
        aborted: 1,
        deleted: 2,
        blobsDeleted: 1,
        locked: 0,
        skipped: 0,
        dryRun: true,
        failed: [],
      });
      expect([await ctx.store.get(live), await ctx.store.get(done)]).toEqual(before);
      expect(await fileExists(staging)).toBe(true);
      expect(await fileExists(join(root, `${t}/done.bin`))).toBe(true);
      expect(ctx.abortedEvents).toEqual([]);
      // The real run does what the dry run said.
      const real = await ctx.admin.purge({ pathPrefix: `${t}/` }, { mode: 'delete', deleteBlobs: true });
      expect({ ...real, dryRun: true }).toEqual(dry);
    });

    it('leaves a session whose lock a writer holds alone (locked), and purges it once the lock is free', async () => {
      if (!ok) return;
      const t = tag();
      const busy = await startUpload(ctx.uploads, { path: `${t}/busy.bin`, bytes: 5 });
      const idle = await startUpload(ctx.uploads, { path: `${t}/idle.bin`, bytes: 5 });
      const lease = await ctx.app.get(UploadLocker).acquire(busy, { waitMs: 0, requestRelease: false });
      try {
        const report = await ctx.admin.purge({ pathPrefix: `${t}/` }, { mode: 'abort' });
        expect(report).toMatchObject({ matched: 2, aborted: 1, locked: 1, failed: [] });
        expect((await ctx.store.get(busy))?.status).toBe(UploadStatus.InProgress);
        expect((await ctx.store.get(idle))?.status).toBe(UploadStatus.Aborted);
      } finally {
        await lease.release();
      }
      const later = await ctx.admin.purge({ pathPrefix: `${t}/busy` }, { mode: 'abort' });
      expect(later).toMatchObject({ matched: 1, aborted: 1, locked: 0 });
      expect(ctx.abortedEvents.sort()).toEqual([busy, idle].sort());
    });

    it('two purges and a client abort at once end each upload exactly once', async () => {
      if (!ok) return;
      const t = tag();
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await startUpload(ctx.uploads, { path: `${t}/${i}.bin`, bytes: 2 }));
      const [first, second] = await Promise.all([
        ctx.admin.purge({ pathPrefix: `${t}/` }, { mode: 'abort' }),
        ctx.admin.purge({ pathPrefix: `${t}/` }, { mode: 'abort' }),
        ctx.uploads.abort(ids[0]).catch(() => undefined),
      ]);
      expect(first.failed).toEqual([]);
      expect(second.failed).toEqual([]);
      expect(first.aborted + second.aborted).toBeLessThanOrEqual(6);
      expect([...ctx.abortedEvents].sort()).toEqual([...ids].sort());
      for (const id of ids) expect((await ctx.store.get(id))?.status).toBe(UploadStatus.Aborted);
    });

    it('refuses an empty filter unless all: true, and bad options, with INVALID_REQUEST', async () => {
      if (!ok) return;
      const id = await startUpload(ctx.uploads, { path: `${tag()}/x.bin` });
      for (const filter of [{}, { pathPrefix: undefined }]) {
        const attempt = ctx.admin.purge(filter, { mode: 'delete' });
        await expect(attempt).rejects.toBeInstanceOf(EmptyPurgeFilterError);
        await expect(ctx.admin.purge(filter, { mode: 'delete' })).rejects.toMatchObject({
          code: 'INVALID_REQUEST',
          status: 400,
          details: { reason: 'EMPTY_FILTER' },
        });
      }
      expect(await ctx.store.get(id)).not.toBeNull();
      for (const options of [
        { mode: 'wipe' },
        { mode: 'abort', deleteBlobs: true },
        { mode: 'delete', dryRun: 'yes' },
      ]) {
        await expect(ctx.admin.purge({ pathPrefix: 'x' }, options as never)).rejects.toMatchObject({
          code: 'INVALID_REQUEST',
        });
      }
      const everything = await ctx.admin.purge({}, { mode: 'delete', all: true });
      expect(everything).toMatchObject({ matched: 1, deleted: 1 });
      expect(await ctx.store.get(id)).toBeNull();
    });

    it('reports a session whose provider data cannot be freed, keeps it, and goes on with the others', async () => {
      if (!ok) return;
      const t = tag();
      const stuck = await startUpload(ctx.uploads, { path: `${t}/stuck.bin`, provider: 'flaky', bytes: 4 });
      const fine = await startUpload(ctx.uploads, { path: `${t}/fine.bin`, bytes: 4 });
      ctx.flaky.failAbort = true;
      const report = await ctx.admin.purge({ pathPrefix: `${t}/` }, { mode: 'delete' });
      expect(report).toMatchObject({
        matched: 2,
        deleted: 1,
        failed: [{ uploadId: stuck, code: 'STORAGE_UNAVAILABLE' }],
      });
      // Freed first: the record that still knows the provider data is kept for a later purge or cleanup.
      expect((await ctx.store.get(stuck))?.providerState).not.toBeNull();
      expect(await ctx.store.get(fine)).toBeNull();
      ctx.flaky.failAbort = false;
      expect(await ctx.admin.purge({ pathPrefix: `${t}/` }, { mode: 'delete' })).toMatchObject({
        matched: 1,
        deleted: 1,
        failed: [],
      });
      expect(ctx.flaky.stagedUploads).toBe(0);
    });
  });
}
