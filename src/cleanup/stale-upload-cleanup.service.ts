import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { CronJob } from 'cron';
import { uploadLog } from '../common/upload-log';
import { UploadLockedError } from '../errors/vali-blob.errors';
import { UploadLease, UploadLocker } from '../locking/upload-locker';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { storeCall } from '../sessions/store-call';
import { ACTIVE_STATUSES, UploadSession } from '../sessions/upload-session.model';
import { withTimeout } from '../common/with-timeout';
import { ResumableUploadService } from '../uploads/resumable-upload.service';
import { UPLOAD_EVENTS, UploadEvents } from '../uploads/upload.events';
import { toSessionView } from '../uploads/upload-session.view';
import { recordCleanupRun, recordExpired } from '../telemetry/cleanup.telemetry';
import { VALIBLOB_OPTIONS } from '../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../vali-blob.options';
import { CleanupLock, CleanupLockHandle } from './cleanup-lock';
import { CleanupReport } from './cleanup-report';
import { SCHEDULER_REGISTRY_TOKEN, SchedulerRegistryLike } from './scheduler-registry.ref';

/** Name of the cron job in the app's `SchedulerRegistry`. */
export const CLEANUP_JOB_NAME = 'valiblob:stale-upload-cleanup';

/**
 * Sessions of one page handled at once. Each needs a few store round trips (lock, re-read, free, delete), so a
 * little concurrency hides latency; more would only crowd the store's connection pool.
 */
const SWEEP_CONCURRENCY = 8;

/** Sessions that failed in one run before the run gives up (keeps a broken backend from looping a run). */
const MAX_FAILED_PER_RUN_FACTOR = 10;

/**
 * Sweeps stale uploads on a cron schedule (`cleanup.cron`, default every 10 minutes):
 *
 * - unfinished sessions past their sliding expiry: provider data is freed FIRST (staging file, S3 multipart
 *   upload, Azure staged blocks), then the session is deleted and `upload.expired` fires once;
 * - completed / aborted / rejected tombstones past `completedRetention`: the session record is deleted (in bulk
 *   by `store.deleteExpired(now)` when it holds no provider state); a completed upload's blob is never touched;
 *   an aborted or rejected tombstone that still holds provider state is freed first.
 *
 * Only the holder of the `CleanupLock` sweeps, and each session is also taken under its upload lock (try-once),
 * so a chunk being written right now is never swept from under its writer. Errors on one session are logged
 * and counted; the session stays for the next run. Runs never overlap: `runOnce()` during a run returns that run.
 *
 * Scheduling goes through the app's `SchedulerRegistry` when `ScheduleModule.forRoot()` is imported (the
 * library never imports it itself). Without it the service runs its own `CronJob` and logs a warning once:
 * orphaned multipart parts cost money, so cleanup must not silently stop just because a module is missing.
 */
@Injectable()
export class StaleUploadCleanupService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ValiBlob');
  private job: CronJob | null = null;
  private registered = false;
  private current: Promise<CleanupReport> | null = null;
  private currentHandle: CleanupLockHandle | null = null;
  /** Aborted on shutdown (after the grace period) so a long run stops at the next session. */
  private readonly stopController = new AbortController();
  /** Sessions the latest sweep could not remove: the backlog it leaves (metrics). */
  private lastPassed = new Set<string>();

  constructor(
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
    private readonly store: ResumableSessionStore,
    private readonly engine: ResumableUploadService,
    private readonly locker: UploadLocker,
    private readonly events: UploadEvents,
    private readonly cleanupLock: CleanupLock,
    @Optional() @Inject(SCHEDULER_REGISTRY_TOKEN as string) private readonly scheduler?: SchedulerRegistryLike,
  ) {}

  /** Register and start the cron job (when `cleanup.enabled`). */
  onApplicationBootstrap(): void {
    const { enabled, cron } = this.options.cleanup;
    if (!enabled) {
      this.logger.log('Stale-upload cleanup is disabled (cleanup.enabled: false)');
      return;
    }
    this.job = CronJob.from({
      cronTime: cron,
      onTick: () => this.tick(),
      start: false,
    });
    if (this.scheduler) {
      this.scheduler.addCronJob(CLEANUP_JOB_NAME, this.job);
      this.registered = true;
    } else {
      this.logger.warn(
        'SchedulerRegistry not found (import ScheduleModule.forRoot() from @nestjs/schedule to manage the job); ' +
          'running the stale-upload cleanup cron job standalone',
      );
    }
    this.job.start();
    this.logger.log(`Stale-upload cleanup scheduled (${cron})`);
  }

  /** Whether a run is in progress. */
  get running(): boolean {
    return this.current !== null;
  }

  /**
   * Sweep once now. Returns the running sweep's report if one is already in progress (runs never overlap),
   * and `skipped: true` when another instance holds the cleanup lock.
   */
  runOnce(): Promise<CleanupReport> {
    if (this.current) return this.current;
    const swept = this.sweep().then((report) => recordCleanupRun(report, this.lastPassed.size));
    const run = swept.finally(() => {
      if (this.current === run) this.current = null;
    });
    this.current = run;
    return run;
  }

  /** Stop the cron, let an in-flight run finish within `cleanup.shutdownTimeoutMs`, release the lock. */
  async beforeApplicationShutdown(): Promise<void> {
    this.job?.stop();
    if (this.registered && this.scheduler?.doesExist('cron', CLEANUP_JOB_NAME)) {
      this.scheduler.deleteCronJob(CLEANUP_JOB_NAME);
    }
    this.registered = false;
    this.job = null;
    const run = this.current;
    if (run) {
      const finished = await withTimeout(
        run.then(
          () => true,
          () => true,
        ),
        this.options.cleanup.shutdownTimeoutMs,
        () => new Error('timeout'),
      ).catch(() => false);
      if (!finished) {
        this.logger.warn('Stale-upload cleanup run did not finish within the shutdown bound; stopping it');
        this.stopController.abort();
        await this.currentHandle?.release().catch(() => undefined);
      }
    }
    // Abort for any run started after this point too.
    this.stopController.abort();
    // The default lock is the library's own; a lock the app passed in is the app's to close.
    if (!this.options.cleanup.lock) await this.cleanupLock.close().catch(() => undefined);
  }

  private tick(): void {
    if (this.current) {
      this.logger.debug?.('Stale-upload cleanup still running; skipping this tick');
      return;
    }
    this.runOnce().catch((error) => this.logger.error(`Stale-upload cleanup failed: ${error}`));
  }

  private async sweep(): Promise<CleanupReport> {
    const started = Date.now();
    const report: CleanupReport = {
      expired: 0,
      aborted: 0,
      purgedTombstones: 0,
      errors: 0,
      durationMs: 0,
      skipped: false,
    };
    if (this.stopController.signal.aborted) return { ...report, skipped: true };
    let handle: CleanupLockHandle | null;
    try {
      handle = await this.cleanupLock.tryAcquire();
    } catch (error) {
      this.logger.error(`Stale-upload cleanup could not take its lock: ${describe(error)}`);
      return { ...report, errors: 1, durationMs: Date.now() - started };
    }
    if (!handle) return { ...report, skipped: true, durationMs: Date.now() - started };
    this.currentHandle = handle;
    try {
      await this.sweepLocked(handle.signal, report);
    } finally {
      this.currentHandle = null;
      await handle
        .release()
        .catch((error) => this.logger.warn(`Releasing the cleanup lock failed: ${describe(error)}`));
    }
    report.durationMs = Date.now() - started;
    if (report.expired + report.purgedTombstones + report.errors > 0) {
      this.logger.log(
        `Stale-upload cleanup: ${report.expired} expired, ${report.aborted} provider uploads freed, ` +
          `${report.purgedTombstones} tombstones purged, ${report.errors} errors in ${report.durationMs} ms`,
      );
    }
    return report;
  }

  private async sweepLocked(lockSignal: AbortSignal, report: CleanupReport): Promise<void> {
    // A fixed "now": sessions that expire while we sweep wait for the next run, so a run always ends.
    const now = Date.now();
    const batchSize = this.options.cleanup.batchSize;
    // Sessions this run could not remove (error, or locked by a writer). findExpired returns them again at the
    // head of every page, so each page asks for that many more, and the run stops when a page brings nothing new.
    const passed = (this.lastPassed = new Set<string>());
    const maxPassed = batchSize * MAX_FAILED_PER_RUN_FACTOR;
    const stopped = () => lockSignal.aborted || this.stopController.signal.aborted;
    // Expired tombstones without provider state have nothing to free: the store drops them in bulk. The loop below
    // still takes unfinished sessions and tombstones that hold provider state (freed first).
    try {
      report.purgedTombstones += await this.callStore('deleteExpired', () => this.store.deleteExpired(now));
    } catch (error) {
      report.errors++;
      this.logger.error(`Stale-upload cleanup: purging expired tombstones failed: ${describe(error)}`);
    }
    while (!stopped()) {
      const limit = batchSize + passed.size;
      let batch: UploadSession[];
      try {
        batch = await this.callStore('findExpired', () => this.store.findExpired(now, limit));
      } catch (error) {
        report.errors++;
        this.logger.error(`Stale-upload cleanup: listing expired sessions failed: ${describe(error)}`);
        return;
      }
      const fresh = batch.filter((session) => !passed.has(session.uploadId));
      if (fresh.length === 0) return;
      let next = 0;
      const worker = async () => {
        while (next < fresh.length && !stopped()) {
          const session = fresh[next++];
          if (!(await this.sweepOne(session, now, report))) passed.add(session.uploadId);
        }
      };
      await Promise.all(Array.from({ length: Math.min(SWEEP_CONCURRENCY, fresh.length) }, worker));
      if (stopped()) return;
      // A short page means every session expired as of `now` has been seen.
      if (batch.length < limit) return;
      if (passed.size >= maxPassed) {
        this.logger.warn(`Stale-upload cleanup: ${passed.size} sessions could not be removed; ending this run early`);
        return;
      }
    }
  }

  /** Handle one expired session; `true` when it was removed (or is no longer there / no longer expired). */
  private async sweepOne(seen: UploadSession, now: number, report: CleanupReport): Promise<boolean> {
    let lease: UploadLease;
    try {
      lease = await this.locker.acquire(seen.uploadId, { waitMs: 0, requestRelease: false });
    } catch (error) {
      // A writer holds it right now: it is not stale after all, or will be swept next run.
      if (!(error instanceof UploadLockedError)) {
        report.errors++;
        this.logger.error(uploadLog('Stale-upload cleanup: locking the session failed', seen, describe(error)));
      }
      return false;
    }
    try {
      // Re-read under the lock: a chunk may have slid its expiry, or another path removed it.
      const session = await this.callStore('get', () => this.store.get(seen.uploadId));
      if (!session || session.expiresAt > now) return true;
      const active = ACTIVE_STATUSES.includes(session.status);
      // Provider data is freed BEFORE the record goes (once it is gone nothing knows the parts exist); an upload
      // that expired unfinished also gives back its quota reservation.
      if (await this.engine.endings.remove(session)) report.aborted++;
      if (active) {
        report.expired++;
        this.events.emit(UPLOAD_EVENTS.expired, { session: toSessionView(session) }, session.ownerId);
        recordExpired(session);
      } else {
        report.purgedTombstones++;
      }
      return true;
    } catch (error) {
      report.errors++;
      this.logger.error(uploadLog('Stale-upload cleanup: removing the session failed', seen, describe(error)));
      return false;
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  /**
   * A store call under `storeTimeoutMs`, like the engine's: a hung store fails this session (logged, retried next
   * run) instead of stalling the sweep while it holds the cleanup lock.
   */
  private callStore<T>(what: string, call: () => Promise<T>): Promise<T> {
    return storeCall(`session store ${what}`, this.options.storeTimeoutMs, call);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
