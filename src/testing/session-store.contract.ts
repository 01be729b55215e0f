import { SessionAlreadyExistsError } from '../errors/vali-blob.errors';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { UploadStatus } from '../sessions/upload-session.model';
import { describeSessionPartitionCases } from './session-store-partition.contract';
import { describeSessionQueryCases } from './session-store-query.contract';
import { makeTestSession, SessionStoreContractOptions, SessionStoreFixture } from './session-store.fixture';

// The fixture helpers live in their own file (the case files use them too); imported from here as before.
export { makeTestSession } from './session-store.fixture';
export type { SessionStoreContractOptions, SessionStoreFixture } from './session-store.fixture';

/**
 * The contract every `ResumableSessionStore` must pass. Call it inside a jest test file:
 *
 * ```ts
 * runSessionStoreContract('redis', async () => ({ store: new RedisSessionStore(...), dispose: ... }));
 * ```
 *
 * `createFixture` runs before each test and must return an empty store. `options.partitioned` adds the partition
 * section for stores with a partition option (see `SessionStoreContractOptions`).
 */
export function runSessionStoreContract(
  name: string,
  createFixture: () => Promise<SessionStoreFixture>,
  options: SessionStoreContractOptions = {},
): void {
  describe(`ResumableSessionStore contract: ${name}`, () => {
    let fixture: SessionStoreFixture;
    let store: ResumableSessionStore;

    beforeEach(async () => {
      fixture = await createFixture();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture?.dispose?.();
    });

    it('saves and gets a session with every field intact', async () => {
      const session = makeTestSession({
        totalSize: 5 * 1024 ** 4, // 5 TiB: beyond 32-bit, must survive bigint columns
        uploadedBytes: 3 * 1024 ** 4,
        metadata: { filename: 'résumé ✓.pdf', empty: '' },
        ownerId: 'owner-1',
        status: UploadStatus.InProgress,
        providerState: { parts: [{ n: 1, etag: '"abc"', size: 5242880 }], nested: { ok: true } },
        checksum: null,
        partial: true,
        parts: ['part-a', 'part-b'],
        fence: 1_763_000_000_000_123, // epoch-microsecond fences need 64-bit columns
        conflict: 'rename',
      });
      await store.save(session);
      expect(await store.get(session.uploadId)).toEqual(session);
    });

    it('keeps a deferred (null) total size', async () => {
      const session = makeTestSession({ totalSize: null });
      await store.save(session);
      expect((await store.get(session.uploadId))?.totalSize).toBeNull();
    });

    it('returns null for an unknown id', async () => {
      expect(await store.get('no-such-upload')).toBeNull();
    });

    it('refuses to save the same id twice', async () => {
      const session = makeTestSession();
      await store.save(session);
      await expect(store.save(session)).rejects.toThrow();
    });

    it('refuses a duplicate id with SessionAlreadyExistsError (409), keeping the stored session', async () => {
      const session = makeTestSession();
      await store.save(session);
      const error = await store.save(makeTestSession({ uploadId: session.uploadId })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionAlreadyExistsError);
      expect(error).toMatchObject({ code: 'SESSION_EXISTS', status: 409 });
      expect(await store.get(session.uploadId)).toEqual(session);
    });

    it('returns copies: mutating a result does not change the store', async () => {
      const session = makeTestSession({ metadata: { a: '1' }, providerState: { x: 1 } });
      await store.save(session);
      const read = (await store.get(session.uploadId))!;
      read.metadata.a = 'changed';
      (read.providerState as { x: number }).x = 2;
      read.uploadedBytes = 999;
      expect(await store.get(session.uploadId)).toEqual(session);
    });

    it('updates every field and bumps the version; unknown ids give null', async () => {
      const session = makeTestSession();
      await store.save(session);
      const changed = {
        ...session,
        status: UploadStatus.Aborted,
        metadata: { k: 'v' },
        expiresAt: session.expiresAt + 5,
      };
      const updated = await store.update(changed);
      expect(updated).toEqual({ ...changed, version: session.version + 1 });
      expect(await store.get(session.uploadId)).toEqual({ ...changed, version: session.version + 1 });
      expect(await store.update(makeTestSession())).toBeNull();
    });

    it('deletes, and deleting an unknown id is a no-op', async () => {
      const session = makeTestSession();
      await store.save(session);
      await store.delete(session.uploadId);
      expect(await store.get(session.uploadId)).toBeNull();
      await expect(store.delete(session.uploadId)).resolves.toBeUndefined();
    });

    it('advances only from the expected offset of an active session', async () => {
      const session = makeTestSession();
      await store.save(session);
      const advanced = await store.advance(session.uploadId, 0, {
        uploadedBytes: 100,
        status: UploadStatus.InProgress,
        providerState: { staged: 100 },
        updatedAt: session.updatedAt + 1,
      });
      expect(advanced).toMatchObject({
        uploadedBytes: 100,
        status: UploadStatus.InProgress,
        version: 2,
        providerState: { staged: 100 },
      });
      expect(await store.advance(session.uploadId, 0, { uploadedBytes: 200 })).toBeNull();
      expect((await store.get(session.uploadId))?.uploadedBytes).toBe(100);
      expect(await store.advance('unknown-upload', 0, { uploadedBytes: 1 })).toBeNull();
    });

    it('refuses an advance from an older fencing token once a newer one advanced', async () => {
      const session = makeTestSession();
      await store.save(session);
      expect(await store.advance(session.uploadId, 0, { uploadedBytes: 10, fence: 200 })).toMatchObject({ fence: 200 });
      // A paused former holder (fence 100) that still believes the offset is 10 cannot write.
      expect(await store.advance(session.uploadId, 10, { uploadedBytes: 20, fence: 100 })).toBeNull();
      const newer = await store.advance(session.uploadId, 10, { uploadedBytes: 20, fence: 200 });
      expect(newer).toMatchObject({ uploadedBytes: 20 });
      const newest = await store.advance(session.uploadId, 20, { uploadedBytes: 30, fence: 300 });
      expect(newest).toMatchObject({ fence: 300 });
      // Advances without a fence (in-process callers) are not fenced.
      const unfenced = await store.advance(session.uploadId, 30, { uploadedBytes: 40 });
      expect(unfenced).toMatchObject({ uploadedBytes: 40, fence: 300 });
    });

    it('does not advance completed or aborted sessions', async () => {
      const complete = makeTestSession({ status: UploadStatus.Complete, uploadedBytes: 1024 });
      const aborted = makeTestSession({ status: UploadStatus.Aborted, uploadedBytes: 10 });
      await store.save(complete);
      await store.save(aborted);
      const patch = { uploadedBytes: 1024, status: UploadStatus.InProgress };
      expect(await store.advance(complete.uploadId, 1024, patch)).toBeNull();
      expect(await store.advance(aborted.uploadId, 10, { uploadedBytes: 20 })).toBeNull();
      expect((await store.get(aborted.uploadId))?.uploadedBytes).toBe(10);
    });

    it('lets exactly one of 1,000 concurrent advances from the same offset win', async () => {
      const session = makeTestSession({ totalSize: 10_000 });
      await store.save(session);
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => store.advance(session.uploadId, 0, { uploadedBytes: i + 1 })),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      const stored = (await store.get(session.uploadId))!;
      expect(stored.uploadedBytes).toBe(winners[0]!.uploadedBytes);
      expect(stored.version).toBe(session.version + 1);
    }, 60_000);

    it('chains advances and bumps the version each time', async () => {
      const session = makeTestSession();
      await store.save(session);
      let offset = 0;
      for (let i = 0; i < 10; i++) {
        const next = await store.advance(session.uploadId, offset, { uploadedBytes: offset + 7 });
        expect(next).not.toBeNull();
        offset += 7;
      }
      expect(await store.get(session.uploadId)).toMatchObject({ uploadedBytes: 70, version: 11 });
    });

    describeSessionQueryCases(() => store);

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    if (options.partitioned) describeSessionPartitionCases(() => store, options.partitioned);
  });
}
