import type { ValiBlobErrorCode } from '../errors/vali-blob.errors';

/**
 * What `UploadAdminService.purge` does with each match.
 *
 * - `abort`: unfinished uploads become Aborted tombstones (provider data freed, quota released, `upload.aborted`
 *   fired once, as for a client abort); tombstones and completed uploads are left as they are (`skipped`).
 * - `delete`: the session records go. Unfinished and aborted ones have their provider data freed first (and an
 *   unfinished one its quota released, `upload.aborted` fired once); a completed upload's blob stays unless
 *   `deleteBlobs` is set.
 * @publicApi
 */
export interface AdminPurgeOptions {
  mode: 'abort' | 'delete';
  /** `delete` mode: also delete the blobs of completed uploads (whatever is at their path now). @default false */
  deleteBlobs?: boolean;
  /** Count what would be done, change nothing (no lock taken, nothing freed). @default false */
  dryRun?: boolean;
  /** Required to purge with an empty filter, which matches every session. @default false */
  all?: boolean;
}

/**
 * One session `purge` could not handle: its error code (e.g. `STORAGE_UNAVAILABLE` when freeing provider data
 * failed; the session then stays for a later purge or the cleanup job).
 * @publicApi
 */
export interface AdminPurgeFailure {
  uploadId: string;
  code: ValiBlobErrorCode | 'INTERNAL_ERROR';
}

/**
 * What `purge` did. With `dryRun`, the counts say what it would have done (`locked` is always 0 then).
 * @publicApi
 */
export interface AdminPurgeReport {
  /** Sessions the filter matched. */
  matched: number;
  /** Unfinished uploads ended (`abort` mode: now Aborted tombstones; `delete` mode: also removed). */
  aborted: number;
  /** Session records removed (`delete` mode). */
  deleted: number;
  /** Blobs of completed uploads deleted (`delete` mode with `deleteBlobs`). */
  blobsDeleted: number;
  /** Matches a writer held the lock of right now: left alone. */
  locked: number;
  /** Matches with nothing to do (`abort` mode on a tombstone or a completed upload; gone or changed on re-read). */
  skipped: number;
  dryRun: boolean;
  failed: AdminPurgeFailure[];
}
