/**
 * Bytes counted against one quota key.
 * @publicApi
 */
export interface QuotaUsage {
  /** Quota key (by default the owner id, `*` for anonymous uploads). */
  key: string;
  /** Bytes of completed uploads still stored (through the library). */
  usedBytes: number;
  /** Bytes held by unfinished uploads (declared size, or bytes streamed so far while the length is deferred). */
  reservedBytes: number;
}

/**
 * Where quota usage lives: in the session store's database, so every instance sees the same numbers (memory,
 * TypeORM table `valiblob_quota_entries`, Redis keys). One entry per upload: reserved while unfinished, committed
 * (with its final path and size) once complete.
 *
 * Rules every implementation keeps (the contract suite checks them):
 * - `reserve` is atomic per key: two instances racing for the last bytes cannot both succeed;
 * - every call is idempotent (retries after a timeout are safe);
 * - an unreachable backend throws `StoreUnavailableError`.
 * @publicApi
 */
export abstract class UploadQuotaStore {
  /**
   * Make the upload's reservation at least `bytes` (it never shrinks here), unless `used + reserved` of `key`
   * (this upload's current reservation not counted twice) would then exceed `limit`: then change nothing and
   * return `false`. A committed upload is left as it is (returns `true`).
   */
  abstract reserve(key: string, uploadId: string, bytes: number, limit: number): Promise<boolean>;
  /**
   * The upload completed: its entry becomes usage of exactly `bytes` at `path`. A committed entry of the same key
   * at the same path (a blob this upload replaced) is dropped. Idempotent; a missing entry is created.
   */
  abstract commit(key: string, uploadId: string, path: string, bytes: number): Promise<void>;
  /** Drop an unfinished upload's reservation (abort, expiry, rejection). No-op when none or committed. */
  abstract release(uploadId: string): Promise<void>;
  /** A blob was deleted through the library: drop the committed usage of `key` at `path`. */
  abstract forgetBlob(key: string, path: string): Promise<void>;
  /** Current usage of a key (zeros when it has none). */
  abstract usage(key: string): Promise<QuotaUsage>;
}
