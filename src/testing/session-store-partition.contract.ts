import type { ResumableSessionStore } from '../sessions/resumable-session-store';
import { UploadSession, UploadStatus } from '../sessions/upload-session.model';
import { makeTestSession, SessionStoreContractOptions, SessionStoreFixture } from './session-store.fixture';

/** The partition names the contract asks `partitioned` for. */
export const CONTRACT_PARTITIONS = ['contract-a', 'contract-b'] as const;

/**
 * The optional partition part of the session-store contract: two partitions and the unpartitioned space on one
 * backend never see each other's sessions, through any call. Registered inside `runSessionStoreContract`'s
 * describe (its beforeEach has built the fixture); `unpartitioned()` is that fixture's store.
 */
export function describeSessionPartitionCases(
  unpartitioned: () => ResumableSessionStore,
  partitioned: NonNullable<SessionStoreContractOptions['partitioned']>,
): void {
  describe('partitions (two partitions and the unpartitioned space on one backend)', () => {
    let fixtures: SessionStoreFixture[] = [];
    let a: ResumableSessionStore;
    let b: ResumableSessionStore;
    /** Every space: [a, b, unpartitioned]. */
    let spaces: ResumableSessionStore[];

    beforeEach(async () => {
      fixtures = [];
      for (const name of CONTRACT_PARTITIONS) fixtures.push(await partitioned(name));
      [a, b] = fixtures.map((f) => f.store);
      spaces = [a, b, unpartitioned()];
    });

    afterEach(async () => {
      for (const fixture of fixtures) await fixture.dispose?.();
    });

    /** Ids each space's `find` returns for a filter, in space order. */
    const seenBy = async (filter: Parameters<ResumableSessionStore['find']>[0]) =>
      Promise.all(spaces.map(async (s) => (await s.find(filter)).items.map((x) => x.uploadId).sort()));
    const sorted = (sessions: UploadSession[]) => sessions.map((s) => s.uploadId).sort();

    it('a session is unknown to the other spaces: get, update, delete and advance see nothing', async () => {
      const inA = makeTestSession({ providerState: { staged: 0 } });
      const inDefault = makeTestSession();
      await a.save(inA);
      await unpartitioned().save(inDefault);
      for (const [owner, session] of [
        [a, inA],
        [unpartitioned(), inDefault],
      ] as const) {
        for (const other of spaces.filter((s) => s !== owner)) {
          expect(await other.get(session.uploadId)).toBeNull();
          expect(await other.update({ ...session, status: UploadStatus.Aborted })).toBeNull();
          expect(await other.advance(session.uploadId, 0, { uploadedBytes: 5 })).toBeNull();
          await other.delete(session.uploadId);
        }
        // Untouched by all of the above, and still the owner's to change.
        expect(await owner.get(session.uploadId)).toEqual(session);
        expect(await owner.advance(session.uploadId, 0, { uploadedBytes: 5 })).toMatchObject({ version: 2 });
      }
    });

    it('find and deleteMany see only their own space, even for the same paths', async () => {
      const paths = ['shared/one.bin', 'shared/two.bin'];
      const bySpace = spaces.map(() => paths.map((path) => makeTestSession({ path, ownerId: 'same-owner' })));
      for (const [i, space] of spaces.entries()) for (const s of bySpace[i]) await space.save(s);
      expect(await seenBy({ pathPrefix: 'shared/' })).toEqual(bySpace.map(sorted));
      expect(await seenBy({ ownerId: 'same-owner', status: UploadStatus.Pending })).toEqual(bySpace.map(sorted));
      expect(await a.deleteMany({ pathPrefix: 'shared/' })).toBe(2);
      expect(await seenBy({ pathPrefix: 'shared/' })).toEqual([[], sorted(bySpace[1]), sorted(bySpace[2])]);
      expect(await unpartitioned().deleteMany({ ownerId: 'same-owner' })).toBe(2);
      expect(await seenBy({})).toEqual([[], sorted(bySpace[1]), []]);
    });

    it('findExpired and deleteExpired see only their own space', async () => {
      const now = Date.now();
      const bySpace = spaces.map(() => [
        makeTestSession({ status: UploadStatus.InProgress, expiresAt: now - 2000 }),
        makeTestSession({ status: UploadStatus.Complete, expiresAt: now - 1000 }),
      ]);
      for (const [i, space] of spaces.entries()) for (const s of bySpace[i]) await space.save(s);
      for (const [i, space] of spaces.entries()) {
        expect((await space.findExpired(now, 100)).map((s) => s.uploadId)).toEqual(bySpace[i].map((s) => s.uploadId));
      }
      expect(await b.deleteExpired(now)).toBe(1);
      expect(await b.get(bySpace[1][1].uploadId)).toBeNull();
      for (const i of [0, 2]) expect(await spaces[i].get(bySpace[i][1].uploadId)).toEqual(bySpace[i][1]);
      expect(await unpartitioned().deleteExpired(now)).toBe(1);
      expect(await a.get(bySpace[0][1].uploadId)).toEqual(bySpace[0][1]);
      expect((await a.findExpired(now, 100)).map((s) => s.uploadId)).toEqual(bySpace[0].map((s) => s.uploadId));
    });
  });
}
