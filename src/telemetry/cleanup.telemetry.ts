import type { CleanupReport } from '../cleanup/cleanup-report';
import type { UploadSession } from '../sessions/upload-session.model';
import { transitionAttributes } from './engine.telemetry';
import { uploadMetrics } from './upload.metrics';

/**
 * Count one cleanup run by outcome — `skipped` (another instance held the cleanup lock, or shutting down),
 * `failed` (the run met errors: see the log), else `swept` — and set the backlog gauge to the sessions it left
 * for the next run. Returns the report, to sit in a promise chain.
 */
export function recordCleanupRun(report: CleanupReport, backlog: number): CleanupReport {
  if (report.skipped) uploadMetrics.cleanupRun('skipped', undefined);
  else uploadMetrics.cleanupRun(report.errors > 0 ? 'failed' : 'swept', backlog);
  return report;
}

/** Count an unfinished upload cleanup removed after its expiry (`valiblob.uploads.expired`). */
export function recordExpired(session: Pick<UploadSession, 'provider' | 'metadata'>): void {
  uploadMetrics.transition('expired', transitionAttributes(session));
}
