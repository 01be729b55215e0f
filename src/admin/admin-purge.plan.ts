import { ACTIVE_STATUSES, UploadSession, UploadStatus } from '../sessions/upload-session.model';
import type { AdminPurgeOptions, AdminPurgeReport } from './admin-purge.types';

/**
 * What purge does with one session, decided the same way for a dry run (on what `find` returned) and for real
 * (on the session re-read under its lock):
 *
 * - `abort`: an unfinished upload becomes an Aborted tombstone (`abort` mode);
 * - `remove`: the record goes, provider data freed first (`delete` mode; unfinished uploads count as aborted too);
 * - `remove-with-blob`: a completed upload's blob is deleted, then its record (`delete` mode with `deleteBlobs`);
 * - `skip`: nothing to do (`abort` mode on a tombstone or a completed upload).
 */
export type PurgeStep = 'abort' | 'remove' | 'remove-with-blob' | 'skip';

/** The step for `session` under `options` (see `PurgeStep`). */
export function purgeStep(session: UploadSession, options: AdminPurgeOptions): PurgeStep {
  const active = ACTIVE_STATUSES.includes(session.status);
  if (options.mode === 'abort') return active ? 'abort' : 'skip';
  if (session.status === UploadStatus.Complete && options.deleteBlobs) return 'remove-with-blob';
  return 'remove';
}

/** Count a step that was (or, in a dry run, would be) carried out. */
export function countStep(report: AdminPurgeReport, step: PurgeStep, session: UploadSession): void {
  const active = ACTIVE_STATUSES.includes(session.status);
  switch (step) {
    case 'abort':
      report.aborted++;
      return;
    case 'remove':
      if (active) report.aborted++;
      report.deleted++;
      return;
    case 'remove-with-blob':
      report.blobsDeleted++;
      report.deleted++;
      return;
    case 'skip':
      report.skipped++;
  }
}

/** A fresh report. */
export function emptyPurgeReport(dryRun: boolean): AdminPurgeReport {
  return { matched: 0, aborted: 0, deleted: 0, blobsDeleted: 0, locked: 0, skipped: 0, dryRun, failed: [] };
}
