/** A held cleanup lock: only its holder sweeps. */
export interface CleanupLockHandle {
  /** Aborted when the lock is lost mid-run (lease expired, connection dropped); the sweep stops early. */
  readonly signal: AbortSignal;
  /** Let go of the lock; idempotent and safe after the lock was lost. */
  release(): Promise<void>;
}

/**
 * The handle a `CleanupLock` returns: `free` runs on the first `release()` only (the sweep and a shutdown may
 * both release), later calls resolve at once.
 */
export function cleanupLockHandle(signal: AbortSignal, free: () => Promise<void>): CleanupLockHandle {
  let released = false;
  return {
    signal,
    release: async () => {
      if (released) return;
      released = true;
      await free();
    },
  };
}

/**
 * Mutual exclusion between application instances for the stale-upload sweep, so two instances never abort or
 * delete the same sessions at once. Unlike the per-upload `UploadLocker` it never waits: an instance that does
 * not get the lock simply skips that run (another instance is sweeping).
 *
 * Implementations: `ProcessCleanupLock` (default; one process), `PostgresAdvisoryCleanupLock` (TypeORM
 * DataSource, `pg_try_advisory_lock`), `RedisCleanupLock` (ioredis, `SET NX PX` + compare-and-delete).
 * The abstract class doubles as the DI token.
 */
export abstract class CleanupLock {
  /** Take the lock if free; `null` when another holder has it. Backend failures reject. */
  abstract tryAcquire(): Promise<CleanupLockHandle | null>;
  /** Release resources this lock created (not connections it was given). */
  async close(): Promise<void> {}
}
