import { createHash } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';
import { CleanupLock, CleanupLockHandle, cleanupLockHandle } from '../cleanup-lock';

/** Options of `PostgresAdvisoryCleanupLock`. */
export interface PostgresAdvisoryCleanupLockOptions {
  /** Lock name; hashed to the 64-bit advisory key. Instances sharing a database and a name exclude each other. */
  name?: string;
}

/**
 * Cleanup lock on a PostgreSQL session-level advisory lock (`pg_try_advisory_lock`). The lock lives on one
 * dedicated connection taken from the DataSource's pool for the length of a run, so if the holder crashes or
 * its connection drops, PostgreSQL frees the lock by itself — no lease to expire, no stale owner.
 * The DataSource is the app's (e.g. from `@nestjs/typeorm`); this lock never destroys it.
 */
export class PostgresAdvisoryCleanupLock extends CleanupLock {
  /** Advisory key as a decimal string (bigint), derived from the name. */
  readonly key: string;

  constructor(
    private readonly dataSource: DataSource,
    options: PostgresAdvisoryCleanupLockOptions = {},
  ) {
    super();
    const digest = createHash('sha256')
      .update(options.name ?? 'valiblob:cleanup')
      .digest();
    this.key = digest.readBigInt64BE(0).toString();
  }

  async tryAcquire(): Promise<CleanupLockHandle | null> {
    const runner: QueryRunner = this.dataSource.createQueryRunner();
    let keep = false;
    try {
      await runner.connect();
      const rows: Array<{ locked: boolean }> = await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
        this.key,
      ]);
      if (rows[0]?.locked !== true) return null;
      keep = true;
    } finally {
      if (!keep) await runner.release().catch(() => undefined);
    }

    const controller = new AbortController();
    // The pg client of this runner: when it errors or ends, the server already dropped our lock.
    const client = (runner as unknown as { databaseConnection?: NodeJS.EventEmitter }).databaseConnection;
    const onLost = () => controller.abort(new Error('PostgreSQL connection holding the cleanup lock was lost'));
    client?.once('error', onLost);
    client?.once('end', onLost);
    return cleanupLockHandle(controller.signal, async () => {
      client?.off('error', onLost);
      client?.off('end', onLost);
      try {
        if (!controller.signal.aborted) await runner.query('SELECT pg_advisory_unlock($1::bigint)', [this.key]);
      } catch {
        // The connection is gone, and with it the lock: nothing left to release.
      } finally {
        await runner.release().catch(() => undefined);
      }
    });
  }
}
