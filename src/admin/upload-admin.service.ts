import { Inject, Injectable, Logger } from '@nestjs/common';
import { uploadLog } from '../common/upload-log';
import { InvalidRequestError, UploadLockedError, ValiBlobError } from '../errors/vali-blob.errors';
import { UploadLease, UploadLocker } from '../locking/upload-locker';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { matchesSessionFilter } from '../sessions/session-filter';
import { storeCall } from '../sessions/store-call';
import { ACTIVE_STATUSES, SessionFilter, UploadSession, UploadStatus } from '../sessions/upload-session.model';
import { ResumableUploadService } from '../uploads/resumable-upload.service';
import { VALIBLOB_OPTIONS } from '../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../vali-blob.options';
import { isEmptyFilter, pickFilter, toPageFilter, toSessionFilter } from './admin-filter.reader';
import { countStep, emptyPurgeReport, purgeStep } from './admin-purge.plan';
import type { AdminPurgeOptions, AdminPurgeReport } from './admin-purge.types';
import type { AdminUploadFilter, AdminUploadPage, AdminUploadQuery } from './admin-upload.query';
import { toAdminUploadView } from './admin-upload.view';
import { EmptyPurgeFilterError } from './admin.errors';

/** Sessions read per page while purging: memory stays bounded however many match. */
const PURGE_PAGE_SIZE = 200;

/**
 * Operators' view of the uploads: find them by path prefix, status, owner and age (paged), and end them in bulk
 * by filter. A trusted in-process API with no ownership checks — the optional REST routes (`http.admin`) put
 * it behind their own `authorize` hook.
 *
 * `purge` handles each match like the cleanup job handles an expired session: the upload lock is taken try-once
 * (a writer holding it right now wins: the session is counted as `locked` and left alone), the session is re-read
 * and re-checked against the filter under the lock, and its provider data is handed to the provider to free
 * (local staging files, the S3 multipart upload and its segments; Azure staged blocks where no committed blob
 * shares the name) before the record could forget it. A failure on one session is reported in `failed`, never thrown.
 * @publicApi
 */
@Injectable()
export class UploadAdminService {
  private readonly logger = new Logger('ValiBlob');

  constructor(
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
    private readonly store: ResumableSessionStore,
    private readonly locker: UploadLocker,
    private readonly engine: ResumableUploadService,
  ) {}

  /** One page of the sessions matching `query`, ordered by upload id. Bad values throw `InvalidRequestError`. */
  async find(query: AdminUploadQuery = {}): Promise<AdminUploadPage> {
    const filter = toSessionFilter(pickFilter(query ?? {}), Date.now());
    const page = await this.callStore('find', () => this.store.find({ ...filter, ...toPageFilter(query ?? {}) }));
    // Checked again in process: a custom store that ignores a field must not widen what operators see.
    const items = page.items.filter((session) => matchesSessionFilter(session, filter)).map(toAdminUploadView);
    return { items, nextCursor: page.nextCursor };
  }

  /**
   * End every upload matching `filter` (see `AdminPurgeOptions` for the modes). An empty filter throws
   * `EmptyPurgeFilterError` unless `options.all` is true. Sessions are read page by page; the time the purge
   * starts fixes "now" for `olderThanMs`, so a purge always ends.
   */
  async purge(filter: AdminUploadFilter, options: AdminPurgeOptions): Promise<AdminPurgeReport> {
    checkPurgeOptions(options);
    const given = pickFilter(filter ?? {});
    if (isEmptyFilter(given) && options.all !== true) throw new EmptyPurgeFilterError();
    const sessionFilter = toSessionFilter(given, Date.now());
    const report = emptyPurgeReport(options.dryRun === true);
    let cursor: string | undefined;
    do {
      const page = await this.callStore('find', () =>
        this.store.find({ ...sessionFilter, limit: PURGE_PAGE_SIZE, cursor }),
      );
      for (const seen of page.items) {
        if (!matchesSessionFilter(seen, sessionFilter)) continue;
        report.matched++;
        if (report.dryRun) countStep(report, purgeStep(seen, options), seen);
        else await this.purgeOne(seen, sessionFilter, options, report);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    if (!report.dryRun && report.matched > 0) {
      this.logger.log(
        `Admin purge (${options.mode}): ${report.matched} matched, ${report.aborted} aborted, ` +
          `${report.deleted} deleted, ${report.blobsDeleted} blobs deleted, ${report.locked} locked, ` +
          `${report.failed.length} failed`,
      );
    }
    return report;
  }

  /** Purge one session under its upload lock, taken try-once. */
  private async purgeOne(
    seen: UploadSession,
    filter: SessionFilter,
    options: AdminPurgeOptions,
    report: AdminPurgeReport,
  ): Promise<void> {
    let lease: UploadLease;
    try {
      lease = await this.locker.acquire(seen.uploadId, { waitMs: 0, requestRelease: false });
    } catch (error) {
      if (error instanceof UploadLockedError) report.locked++;
      else this.fail(report, seen, error);
      return;
    }
    try {
      // Re-read under the lock: a chunk may have landed, a client may have aborted, cleanup may have removed it.
      const session = await this.callStore('get', () => this.store.get(seen.uploadId));
      if (!session || !matchesSessionFilter(session, filter)) {
        report.skipped++;
        return;
      }
      const step = purgeStep(session, options);
      if (!(await this.carryOut(step, session, lease))) {
        // The compare-and-set lost to a writer with a newer fence: that writer holds the upload now.
        report.locked++;
        return;
      }
      countStep(report, step, session);
    } catch (error) {
      this.fail(report, seen, error);
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  /** Do one step; `false` when the session moved on under the compare-and-set (abort only). */
  private async carryOut(step: ReturnType<typeof purgeStep>, session: UploadSession, lease: UploadLease) {
    switch (step) {
      case 'abort':
        return (await this.engine.endings.abortLocked(session, lease.fence)) !== null;
      case 'remove-with-blob':
        // The blob first: if deleting it fails the record stays, and a later purge can try again.
        await this.engine.endings.deleteFinished(session);
        await this.engine.endings.remove(session);
        return true;
      case 'remove':
        await this.engine.endings.remove(session);
        if (ACTIVE_STATUSES.includes(session.status)) {
          // An upload ended unfinished: listeners hear it as for a client abort, once.
          const ended = { ...session, status: UploadStatus.Aborted, providerState: null, updatedAt: Date.now() };
          this.engine.endings.announceAborted(ended);
        }
        return true;
      case 'skip':
        return true;
    }
  }

  /** Count and log one session's failure; the line names the upload and its owner like the engine's lines. */
  private fail(report: AdminPurgeReport, session: UploadSession, error: unknown): void {
    const code = error instanceof ValiBlobError ? error.code : 'INTERNAL_ERROR';
    report.failed.push({ uploadId: session.uploadId, code });
    this.logger.error(uploadLog('Admin purge: the session failed', session, error));
  }

  private callStore<T>(what: string, call: () => Promise<T>): Promise<T> {
    return storeCall(`session store ${what}`, this.options.storeTimeoutMs, call);
  }
}

/** Purge options as the caller gave them (the REST route passes a client's JSON here). */
function checkPurgeOptions(options: AdminPurgeOptions): void {
  if (!options || typeof options !== 'object') throw new InvalidRequestError('purge options must be an object');
  if (options.mode !== 'abort' && options.mode !== 'delete') {
    throw new InvalidRequestError('mode must be "abort" or "delete"');
  }
  for (const flag of ['deleteBlobs', 'dryRun', 'all'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
      throw new InvalidRequestError(`${flag} must be a boolean`);
    }
  }
  if (options.deleteBlobs && options.mode !== 'delete') {
    throw new InvalidRequestError('deleteBlobs applies to mode "delete" only');
  }
}
