import type { DataSource } from 'typeorm';
import { UploadLockedError } from '../../errors/vali-blob.errors';
import { SqlUploadLocker } from '../../locking/sql/sql-upload.locker';
import { CleanupLock, CleanupLockHandle } from '../cleanup-lock';

/** Options of `SqlCleanupLock`. */
export interface SqlCleanupLockOptions {
  /** Lock name; instances sharing a database and a name exclude each other. Default `valiblob`. */
  name?: string;
  /** Lease length, extended by a heartbeat while the sweep runs (default 30 000 ms). */
  ttlMs?: number;
  /** Each lock query that takes longer fails (default 5000 ms). */
  timeoutMs?: number;
}

/**
 * Cleanup lock as a lease row in the upload-lock table (`valiblob_upload_locks`) of the session database, so it
 * works wherever the TypeORM store does — in particular on SQLite, which has no advisory locks: several
 * processes on one SQLite file then still sweep one at a time. The row's id (`cleanup:<name>`) contains a
 * colon, which upload ids never do, so it cannot collide with an upload's lock. On PostgreSQL the default is
 * `PostgresAdvisoryCleanupLock` (freed by the server when the holder's connection drops).
 * @publicApi
 */
export class SqlCleanupLock extends CleanupLock {
  private readonly locker: SqlUploadLocker;
  private readonly id: string;

  constructor(dataSource: DataSource, options: SqlCleanupLockOptions = {}) {
    super();
    this.locker = new SqlUploadLocker(dataSource, { ttlMs: options.ttlMs ?? 30_000, timeoutMs: options.timeoutMs });
    this.id = `cleanup:${options.name ?? 'valiblob'}`;
  }

  async tryAcquire(): Promise<CleanupLockHandle | null> {
    try {
      // waitMs 0: one attempt; a sweep never waits for another instance's sweep.
      const lease = await this.locker.acquire(this.id, { waitMs: 0, requestRelease: false });
      return { signal: lease.signal, release: () => lease.release() };
    } catch (error) {
      if (error instanceof UploadLockedError) return null;
      throw error;
    }
  }

  override async close(): Promise<void> {
    await this.locker.close();
  }
}
