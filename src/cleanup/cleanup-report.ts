/** Outcome of one stale-upload sweep (`StaleUploadCleanupService.runOnce()`). */
export interface CleanupReport {
  /** Unfinished sessions past their expiry that were removed (one `upload.expired` event each). */
  expired: number;
  /** Provider-side uploads freed (staging files, multipart uploads, staged blocks). */
  aborted: number;
  /** Completed or aborted sessions removed after `completedRetention` (completed blobs stay untouched). */
  purgedTombstones: number;
  /** Sessions (or store calls) that failed; logged, retried by a later run. */
  errors: number;
  /** Wall time of the run. */
  durationMs: number;
  /** True when another holder had the cleanup lock, so this instance did not sweep. */
  skipped: boolean;
}
