import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorFunction, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { UploadPolicy } from '../policy/upload-policy';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { StorageRegistry } from '../storage/storage.registry';
import { guardedCall } from '../common/guarded-call';
import { VALIBLOB_DEFAULTS } from '../options/vali-blob.defaults';
import { HealthTimeoutError, toHealthFailure } from './health-failure';

/** Options of `checkStorage`. */
export interface StorageHealthOptions {
  /** Provider name (default provider when omitted). */
  provider?: string;
  /** Budget for the probe (default 2000 ms). */
  timeoutMs?: number;
}

/** Options of `checkSessionStore`. */
export interface SessionStoreHealthOptions {
  /** Budget for the probe (default 2000 ms). */
  timeoutMs?: number;
}

/** Options of `checkScanner`. */
export interface ScannerHealthOptions {
  /** Budget for the probe (default 2000 ms). */
  timeoutMs?: number;
}

/** Options of `checkCleanupBacklog`. */
export interface CleanupBacklogHealthOptions {
  /** More expired sessions than this waiting for cleanup is `down` (cleanup is not keeping up or not running). */
  maxExpired: number;
  /** Budget for the query (default 2000 ms). */
  timeoutMs?: number;
}

/** Options of `checkAll`: the three usual checks with one probe budget. */
export interface ValiBlobHealthCheckAllOptions {
  /** Budget of each probe (default 2000 ms). */
  timeoutMs?: number;
  /** Storage provider to probe (default provider when omitted). */
  provider?: string;
  /** Expired sessions tolerated before the cleanup check is `down` (default 10 000). */
  maxExpired?: number;
  /** Result keys (default `storage`, `sessionStore`, `cleanup`, and `scanner` when `policy.scan` is set). */
  keys?: { storage?: string; sessionStore?: string; cleanup?: string; scanner?: string };
}

/** Default probe budget: well under the usual 5-10 s probe timeouts of orchestrators. */
const DEFAULT_TIMEOUT_MS: number = VALIBLOB_DEFAULTS.healthTimeoutMs;
/** Default backlog limit of `checkAll`: far above a healthy backlog, far below one that hurts the store. */
const DEFAULT_MAX_EXPIRED: number = VALIBLOB_DEFAULTS.healthMaxExpired;

/**
 * Terminus health indicator for ValiBlob (`@vali-blob/nestjs/health`). Import `ValiBlobHealthModule` (or list this
 * class in the providers of a module that imports `TerminusModule`), then use it in a `@HealthCheck()` route:
 *
 * ```ts
 * this.health.check(this.valiBlob.checkAll());           // storage, sessionStore, cleanup
 * this.health.check([
 *   () => this.valiBlob.checkStorage('storage', { timeoutMs: 2000 }),
 *   () => this.valiBlob.checkSessionStore('sessions', { timeoutMs: 2000 }),
 *   () => this.valiBlob.checkCleanupBacklog('cleanup', { maxExpired: 10_000 }),
 * ])
 * ```
 *
 * The storage registry and the session store come from `ValiBlobModule` wherever the app registered it (looked up
 * across the application when this module cannot see its exports), so no extra wiring is needed.
 * The checks never throw for backend failures: timeouts and driver errors become `down` with a reason and a
 * code only (no driver messages, which can quote connection strings or credentials).
 */
@Injectable()
export class ValiBlobHealthIndicator implements OnModuleInit {
  private registry!: StorageRegistry;
  private store!: ResumableSessionStore;
  private policy?: UploadPolicy;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
    @Optional() registry?: StorageRegistry,
    @Optional() store?: ResumableSessionStore,
  ) {
    if (registry) this.registry = registry;
    if (store) this.store = store;
  }

  /** Finds ValiBlob's registry and store when this module cannot see them; fails the bootstrap when absent. */
  onModuleInit(): void {
    try {
      this.registry ??= this.moduleRef.get(StorageRegistry, { strict: false });
      this.store ??= this.moduleRef.get(ResumableSessionStore, { strict: false });
      this.policy = this.moduleRef.get(UploadPolicy, { strict: false });
    } catch {
      throw new Error(
        'ValiBlobHealthIndicator needs ValiBlobModule.forRoot() or forRootAsync() in the same application ' +
          '(import it next to ValiBlobHealthModule).',
      );
    }
  }

  /**
   * The usual checks, ready for `HealthCheckService.check()`: storage `ping()`, session store `ping()`, the cleanup
   * backlog and, when `policy.scan` is set, the virus scanner's `ping()` (uploads cannot publish without it), each
   * within `timeoutMs`.
   */
  checkAll(options: ValiBlobHealthCheckAllOptions = {}): HealthIndicatorFunction[] {
    const { timeoutMs, provider, maxExpired = DEFAULT_MAX_EXPIRED, keys = {} } = options;
    const checks: HealthIndicatorFunction[] = [
      () => this.checkStorage(keys.storage ?? 'storage', { provider, timeoutMs }),
      () => this.checkSessionStore(keys.sessionStore ?? 'sessionStore', { timeoutMs }),
      () => this.checkCleanupBacklog(keys.cleanup ?? 'cleanup', { maxExpired, timeoutMs }),
    ];
    if (this.policy?.resolved.scanner) checks.push(() => this.checkScanner(keys.scanner ?? 'scanner', { timeoutMs }));
    return checks;
  }

  /** `up` when the configured virus scanner answers `ping()` (clamd `PING`); `up` with `configured: false` without. */
  async checkScanner<const Key extends string>(
    key: Key,
    options: ScannerHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const scanner = this.policy?.resolved.scanner;
    if (!scanner) return indicator.up({ configured: false });
    try {
      await probe(() => scanner.ping(), options.timeoutMs);
      return indicator.up({ configured: true });
    } catch (error) {
      return indicator.down({ configured: true, ...toHealthFailure(error) });
    }
  }

  /** `up` when the storage provider answers `ping()` (local: root writable; S3/Azure: bucket/container reachable). */
  async checkStorage<const Key extends string>(
    key: Key,
    options: StorageHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const name = options.provider ?? this.registry.defaultName;
    try {
      await probe(() => this.registry.get(name).ping(), options.timeoutMs);
      return indicator.up({ provider: name });
    } catch (error) {
      return indicator.down({ provider: name, ...toHealthFailure(error) });
    }
  }

  /** `up` when the session store answers `ping()` (PostgreSQL / SQLite query, Redis PING). */
  async checkSessionStore<const Key extends string>(
    key: Key,
    options: SessionStoreHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    try {
      await probe(() => this.store.ping(), options.timeoutMs);
      return indicator.up();
    } catch (error) {
      return indicator.down({ ...toHealthFailure(error) });
    }
  }

  /**
   * `up` while at most `maxExpired` sessions are past their expiry (reads at most `maxExpired + 1` of them).
   * A growing backlog means the cleanup cron is disabled, failing, or slower than uploads expire.
   */
  async checkCleanupBacklog<const Key extends string>(
    key: Key,
    options: CleanupBacklogHealthOptions,
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const maxExpired = options?.maxExpired;
    if (!Number.isSafeInteger(maxExpired) || maxExpired < 0) {
      const message = 'maxExpired must be a non-negative integer';
      return indicator.down({ reason: 'error', code: 'INVALID_OPTIONS', message });
    }
    try {
      const expired = await probe(() => this.store.findExpired(Date.now(), maxExpired + 1), options.timeoutMs);
      if (expired.length > maxExpired) {
        const message = `more than ${maxExpired} expired sessions await cleanup`;
        return indicator.down({ reason: 'backlog', message, maxExpired });
      }
      return indicator.up({ expired: expired.length, maxExpired });
    } catch (error) {
      return indicator.down({ ...toHealthFailure(error), maxExpired });
    }
  }
}

/**
 * Run a probe within a time budget; the late result of a timed-out probe is ignored. Synchronous throws (e.g. an
 * unknown provider name) become rejections like any other failure. Failures are not mapped here: they reach
 * `toHealthFailure` as they are, which keeps only their codes (never driver messages); the deadline is the one
 * failure this adds, as `HealthTimeoutError`.
 */
function probe<T>(call: () => Promise<T>, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  return guardedCall(call, {
    what: 'health probe',
    timeoutMs,
    passThrough: [Error],
    // Not timed out: a rejection with a non-Error value (Errors pass through); keep it in the chain.
    unavailable: ({ timedOut, cause }) =>
      timedOut ? new HealthTimeoutError(timeoutMs) : new Error('check failed', { cause }),
  });
}
