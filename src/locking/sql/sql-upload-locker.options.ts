// Kept apart from the locker so the root entry's option types can name it without reaching typeorm.

/** Options of `SqlUploadLocker`. */
export interface SqlUploadLockerOptions {
  /** Lease length; a holder that stops heart-beating (crashed, partitioned) loses the lock after this. Default 30 s. */
  ttlMs?: number;
  /** How often the holder extends its lease. Default `ttlMs / 3`. */
  heartbeatMs?: number;
  /** How often a waiting request retries. Default 50 ms (plus jitter). */
  pollMs?: number;
  /** How often holders look for release requests from other instances. Default 200 ms. */
  releasePollMs?: number;
  /** Each lock query that takes longer fails with `StoreUnavailableError` (503). Default 5000 ms. */
  timeoutMs?: number;
}
