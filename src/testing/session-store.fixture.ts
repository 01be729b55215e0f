import { randomBytes } from 'node:crypto';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { UploadSession, UploadStatus } from '../sessions/upload-session.model';

/** What a contract-suite factory returns: a store that starts empty, and how to dispose of it. */
export interface SessionStoreFixture {
  store: ResumableSessionStore;
  /** Called after each test (close connections, drop data). */
  dispose?: () => Promise<void>;
}

/** Optional parts of the contract, for stores that have the feature. */
export interface SessionStoreContractOptions {
  /**
   * For stores with a partition option (seed 002's partition key). Called in each partition test AFTER
   * `createFixture`, once per partition name (`'contract-a'`, `'contract-b'`): return a store in that partition on
   * the SAME backend as the fixture just created, whose own `store` is the unpartitioned space. The suite then
   * checks that the three spaces never see each other's sessions, through every call. `dispose` (if any) runs
   * after the test, before the fixture's.
   */
  partitioned?: (partition: string) => Promise<SessionStoreFixture>;
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
