/** A held per-upload lock. */
export interface UploadLease {
  /** Monotonically increasing per upload; stores may check it so a paused former holder cannot write late. */
  readonly fence: number;
  /** Aborted when the lease is lost (expired or taken over); long operations should stop. */
  readonly signal: AbortSignal;
  /** Let go of the lock; idempotent, and a no-op when the lease was already lost. */
  release(): Promise<void>;
}

/** Options of `acquire`. */
export interface AcquireOptions {
  /** Give up after this long and throw `UploadLockedError` (0 = try once). */
  waitMs: number;
  /** Ask the current holder to let go (tus: a newer request wins, the holder keeps what it stored). */
  requestRelease: boolean;
  /** Called on the holder when another request asks for the lock. */
  onReleaseRequested?: () => void;
}

/**
 * Exclusive per-upload lock so two requests never write one upload at once. The abstract class is also the DI
 * token. Implementations: memory (one process), Redis and SQL (several instances).
 */
export abstract class UploadLocker {
  /** Take the lock for an upload, waiting at most `waitMs`; throws `UploadLockedError` on time-out. */
  abstract acquire(uploadId: string, options: AcquireOptions): Promise<UploadLease>;
  /** Release everything this locker holds (shutdown). */
  async close(): Promise<void> {}
}
