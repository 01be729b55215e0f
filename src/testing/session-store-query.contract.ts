import type { ResumableSessionStore } from '../sessions/resumable-session-store';
import { SessionFilter, UploadStatus } from '../sessions/upload-session.model';
import { makeTestSession } from './session-store.fixture';

/**
 * The query and bulk-delete part of the session-store contract (`find`, `deleteMany`, `findExpired`,
 * `deleteExpired`), registered inside `runSessionStoreContract`'s describe; `store()` is that test's empty store.
 */
export function describeSessionQueryCases(store: () => ResumableSessionStore): void {
  const ids = async (filter: SessionFilter) => (await store().find(filter)).items.map((s) => s.uploadId).sort();

  it('finds by path prefix literally (no wildcards), status and owner', async () => {
    const a = makeTestSession({ path: 'lit/a%b/1', ownerId: 'alice', status: UploadStatus.InProgress });
    const b = makeTestSession({ path: 'lit/a_b/2', ownerId: 'bob' });
    const c = makeTestSession({ path: 'lit/axb/3', ownerId: 'alice', status: UploadStatus.Complete });
    const d = makeTestSession({ path: 'other/4', ownerId: 'alice' });
    for (const s of [a, b, c, d]) await store().save(s);
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
    await store().save(old);
    await store().save(fresh);
    expect((await store().find({ expiresBefore: now })).items.map((s) => s.uploadId)).toEqual([old.uploadId]);
  });

  it('finds and deletes by createdBefore (created at or before the instant), combined with other fields', async () => {
    const t = Date.now();
    const oldest = makeTestSession({ createdAt: t - 2000, ownerId: 'o' });
    const older = makeTestSession({ createdAt: t - 1000, ownerId: 'o', status: UploadStatus.Complete });
    const atT = makeTestSession({ createdAt: t, ownerId: 'p' });
    const newer = makeTestSession({ createdAt: t + 1000, ownerId: 'o' });
    for (const s of [oldest, older, atT, newer]) await store().save(s);
    expect(await ids({ createdBefore: t - 1000 })).toEqual([oldest, older].map((s) => s.uploadId).sort());
    expect(await ids({ createdBefore: t })).toEqual([oldest, older, atT].map((s) => s.uploadId).sort());
    expect(await ids({ createdBefore: t, status: UploadStatus.Complete })).toEqual([older.uploadId]);
    expect(await store().deleteMany({ createdBefore: t, ownerId: 'o' })).toBe(2);
    expect(await ids({})).toEqual([atT, newer].map((s) => s.uploadId).sort());
  });

  it('pages through find results without loss or repetition', async () => {
    const saved = Array.from({ length: 23 }, () => makeTestSession({ path: 'page/x' }));
    for (const s of saved) await store().save(s);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store().find({ pathPrefix: 'page/', limit: 5, cursor });
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
    for (const s of [keep, drop1, drop2]) await store().save(s);
    expect(await store().deleteMany({ pathPrefix: 'dm/drop/' })).toBe(2);
    expect(await store().get(drop1.uploadId)).toBeNull();
    expect(await store().get(keep.uploadId)).not.toBeNull();
    expect(await store().deleteMany({ ownerId: 'nobody' })).toBe(0);
  });

  it('finds expired sessions of any status, oldest first, up to the limit', async () => {
    const now = Date.now();
    const s1 = makeTestSession({ expiresAt: now - 3000 });
    const s2 = makeTestSession({ expiresAt: now - 2000, status: UploadStatus.Complete });
    const s3 = makeTestSession({ expiresAt: now - 1000, status: UploadStatus.Aborted });
    const live = makeTestSession({ expiresAt: now + 60_000 });
    for (const s of [s3, live, s1, s2]) await store().save(s);
    expect((await store().findExpired(now, 10)).map((s) => s.uploadId)).toEqual([s1, s2, s3].map((s) => s.uploadId));
    expect((await store().findExpired(now, 2)).map((s) => s.uploadId)).toEqual([s1, s2].map((s) => s.uploadId));
  });

  it('slides expiry: an advanced session is no longer expired', async () => {
    const now = Date.now();
    const session = makeTestSession({ expiresAt: now - 10 });
    await store().save(session);
    expect((await store().findExpired(now, 10)).map((s) => s.uploadId)).toEqual([session.uploadId]);
    await store().advance(session.uploadId, 0, { uploadedBytes: 1, expiresAt: now + 60_000, updatedAt: now });
    expect(await store().findExpired(now, 10)).toEqual([]);
  });

  it('deleteExpired removes only expired terminal sessions without provider state; returns the count', async () => {
    const now = Date.now();
    const gone = [
      makeTestSession({ status: UploadStatus.Complete, expiresAt: now - 5000 }),
      makeTestSession({ status: UploadStatus.Aborted, expiresAt: now - 1 }),
      makeTestSession({ status: UploadStatus.Rejected, expiresAt: now - 3000 }),
      // expiresAt <= now: the boundary is expired.
      makeTestSession({ status: UploadStatus.Complete, expiresAt: now }),
    ];
    const kept = [
      // Unfinished: cleanup frees their provider data and fires upload.expired first.
      makeTestSession({ status: UploadStatus.Pending, expiresAt: now - 5000 }),
      makeTestSession({ status: UploadStatus.InProgress, expiresAt: now - 5000, providerState: { staged: 1 } }),
      // Tombstones that still hold provider data: cleanup frees it first.
      makeTestSession({ status: UploadStatus.Aborted, expiresAt: now - 5000, providerState: { upload: 'x' } }),
      makeTestSession({ status: UploadStatus.Complete, expiresAt: now - 5000, providerState: { parts: [] } }),
      // Still within retention.
      makeTestSession({ status: UploadStatus.Complete, expiresAt: now + 1 }),
      makeTestSession({ status: UploadStatus.Rejected, expiresAt: now + 60_000 }),
    ];
    for (const s of [...kept, ...gone]) await store().save(s);
    expect(await store().deleteExpired(now)).toBe(gone.length);
    for (const s of gone) expect(await store().get(s.uploadId)).toBeNull();
    for (const s of kept) expect(await store().get(s.uploadId)).toEqual(s);
    expect(await store().deleteExpired(now)).toBe(0);
  });

  it('deleteExpired takes a tombstone once an update cleared its provider state', async () => {
    const now = Date.now();
    const tombstone = makeTestSession({ status: UploadStatus.Aborted, expiresAt: now - 10, providerState: { p: 1 } });
    await store().save(tombstone);
    expect(await store().deleteExpired(now)).toBe(0);
    await store().update({ ...tombstone, providerState: null });
    expect(await store().deleteExpired(now)).toBe(1);
    expect(await store().get(tombstone.uploadId)).toBeNull();
  });
}
