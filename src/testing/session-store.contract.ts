import { randomBytes } from 'node:crypto';
import { SessionAlreadyExistsError } from '../errors/vali-blob.errors';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { UploadSession, UploadStatus } from '../sessions/upload-session.model';

/** What a contract-suite factory returns: a store that starts empty, and how to dispose of it. */
export interface SessionStoreFixture {
  store: ResumableSessionStore;
  /** Called after each test (close connections, drop data). */
  dispose?: () => Promise<void>;
}

/** Build a valid session for tests; override any field. */
export function makeTestSession(overrides: Partial<UploadSession> = {}): UploadSession {
  const now = Date.now();
  return {
    uploadId: randomBytes(18).toString('base64url'),
    path: `contract/${randomBytes(6).toString('hex')}.bin`,
    provider: 'local',
    totalSize: 1024,
    uploadedBytes: 0,
    contentType: 'application/octet-stream',
    metadata: {},
    ownerId: null,
    status: UploadStatus.Pending,
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 3_600_000,
    version: 1,
    providerState: null,
    checksum: null,
    partial: false,
    parts: null,
    fence: 0,
    conflict: 'fail',
    ...overrides,
  };
}

/**
 * The contract every `ResumableSessionStore` must pass. Call it inside a jest test file:
 *
 * ```ts
 * runSessionStoreContract('redis', async () => ({ store: new RedisSessionStore(...), dispose: ... }));
 * ```
 *
 * `createFixture` runs before each test and must return an empty store.
 */
export function runSessionStoreContract(name: string, createFixture: () => Promise<SessionStoreFixture>): void {
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

    it('finds by path prefix literally (no wildcards), status and owner', async () => {
      const a = makeTestSession({ path: 'lit/a%b/1', ownerId: 'alice', status: UploadStatus.InProgress });
      const b = makeTestSession({ path: 'lit/a_b/2', ownerId: 'bob' });
      const c = makeTestSession({ path: 'lit/axb/3', ownerId: 'alice', status: UploadStatus.Complete });
      const d = makeTestSession({ path: 'other/4', ownerId: 'alice' });
      for (const s of [a, b, c, d]) await store.save(s);
      const ids = async (filter: Parameters<ResumableSessionStore['find']>[0]) =>
        (await store.find(filter)).items.map((s) => s.uploadId).sort();
      expect(await ids({ pathPrefix: 'lit/a%' })).toEqual([a.uploadId]);
      expect(await ids({ pathPrefix: 'lit/a_' })).toEqual([b.uploadId]);
      expect(await ids({ pathPrefix: 'lit/' })).toEqual([a, b, c].map((s) => s.uploadId).sort());
      expect(await ids({ ownerId: 'alice' })).toEqual([a, c, d].map((s) => s.uploadId).sort());
      expect(await ids({ status: UploadStatus.Complete })).toEqual([c.uploadId]);
      expect(await ids({ status: [UploadStatus.Pending, UploadStatus.Complete], ownerId: 'alice' })).toEqual(
        [c, d].map((s) => s.uploadId).sort(),
      );
    });

    it('finds by expiresBefore', async () => {
      const now = Date.now();
      const old = makeTestSession({ expiresAt: now - 1000 });
      const fresh = makeTestSession({ expiresAt: now + 60_000 });
      await store.save(old);
      await store.save(fresh);
      expect((await store.find({ expiresBefore: now })).items.map((s) => s.uploadId)).toEqual([old.uploadId]);
    });

    it('pages through find results without loss or repetition', async () => {
      const saved = Array.from({ length: 23 }, () => makeTestSession({ path: 'page/x' }));
      for (const s of saved) await store.save(s);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.find({ pathPrefix: 'page/', limit: 5, cursor });
        seen.push(...page.items.map((s) => s.uploadId));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 20);
      expect(pages).toBe(5);
      expect(seen).toEqual(saved.map((s) => s.uploadId).sort());
    });

    it('deletes many by filter and reports how many', async () => {
      const keep = makeTestSession({ path: 'dm/keep', ownerId: 'k' });
      const drop1 = makeTestSession({ path: 'dm/drop/1', ownerId: 'd' });
      const drop2 = makeTestSession({ path: 'dm/drop/2', ownerId: 'd' });
      for (const s of [keep, drop1, drop2]) await store.save(s);
      expect(await store.deleteMany({ pathPrefix: 'dm/drop/' })).toBe(2);
      expect(await store.get(drop1.uploadId)).toBeNull();
      expect(await store.get(keep.uploadId)).not.toBeNull();
      expect(await store.deleteMany({ ownerId: 'nobody' })).toBe(0);
    });

    it('finds expired sessions of any status, oldest first, up to the limit', async () => {
      const now = Date.now();
      const s1 = makeTestSession({ expiresAt: now - 3000 });
      const s2 = makeTestSession({ expiresAt: now - 2000, status: UploadStatus.Complete });
      const s3 = makeTestSession({ expiresAt: now - 1000, status: UploadStatus.Aborted });
      const live = makeTestSession({ expiresAt: now + 60_000 });
      for (const s of [s3, live, s1, s2]) await store.save(s);
      expect((await store.findExpired(now, 10)).map((s) => s.uploadId)).toEqual([s1, s2, s3].map((s) => s.uploadId));
      expect((await store.findExpired(now, 2)).map((s) => s.uploadId)).toEqual([s1, s2].map((s) => s.uploadId));
    });

    it('slides expiry: an advanced session is no longer expired', async () => {
      const now = Date.now();
      const session = makeTestSession({ expiresAt: now - 10 });
      await store.save(session);
      expect((await store.findExpired(now, 10)).map((s) => s.uploadId)).toEqual([session.uploadId]);
      await store.advance(session.uploadId, 0, { uploadedBytes: 1, expiresAt: now + 60_000, updatedAt: now });
      expect(await store.findExpired(now, 10)).toEqual([]);
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
