import type { CleanupLock } from '../cleanup/cleanup-lock';
import type { UploadLocker } from '../locking/upload-locker';
import type { ConflictPolicy } from '../uploads/conflict-policy';
import type { ChecksumAlgorithm } from '../uploads/upload-checksum';
import type { AuthorizeHook } from './authorize-hook.interface';
import type { ClassOrFactoryConfig, SessionStoreConfig, StorageProviderConfig } from './pluggable-config.interface';
import type { UploadPolicyOptions } from './upload-policy-options.interface';

/**
 * What `tus.naming` receives: the new upload's id, its decoded `Upload-Metadata` and the platform request.
 *
 * @publicApi
 */
export interface TusNamingInput {
  uploadId: string;
  metadata: Record<string, string>;
  request: unknown;
}

/**
 * tus endpoint options (behaviour; the mount path is a static `http` option of the module).
 *
 * @publicApi
 */
export interface TusOptions {
  /**
   * Answer OPTIONS with 200 instead of 204 (some old browsers reject a 204 preflight).
   * @default false
   */
  optionsStatus200?: boolean;
  /**
   * Absolute base URL for `Location` (e.g. `https://api.example.com/files`).
   * @default undefined (relative `Location`)
   */
  baseUrl?: string;
  /**
   * Use `X-Forwarded-Host`/`-Proto` for absolute `Location`s; only behind a trusted proxy.
   * @default false
   */
  trustForwardedHeaders?: boolean;
  /**
   * Allow DELETE of finished uploads (otherwise 400).
   * @default false
   */
  allowTerminateFinished?: boolean;
  /**
   * Where a tus upload is stored.
   * @default `tus/<uploadId>/<sanitised filename>`
   */
  naming?: (input: TusNamingInput) => string | Promise<string>;
  /**
   * CORS: allowed origins (`'*'`, a list, or false to leave CORS to the app).
   * @default false
   */
  cors?: false | '*' | string[];
  /**
   * Largest `Upload-Metadata` header in bytes.
   * @default 4096
   */
  maxMetadataSize?: number;
  /**
   * Conflict policy of tus uploads when the (named) path already holds a blob at complete; tus clients cannot
   * choose it (`fail`: 409 BLOB_EXISTS, the existing blob kept). Matters only with a `naming` that can repeat a
   * path: the default naming puts the upload id in the path.
   * @default 'fail'
   */
  conflict?: ConflictPolicy;
  /**
   * Also speak the IETF resumable-upload draft (draft-ietf-httpbis-resumable-upload, interop versions 5 to 8) on
   * this endpoint: a request carrying `Upload-Draft-Interop-Version` is answered as the draft, any other as tus.
   * `false` ignores the header (tus answers everything). See docs/rufh.md.
   * @default true
   */
  ietfDraft?: boolean;
  /**
   * Send `104 (Upload Resumption Supported)` interim responses to draft creation requests. Turn off behind a
   * proxy or client stack that mishandles unknown 1xx responses; the upload URL then arrives with the final answer.
   * @default true
   */
  ietfInterimResponses?: boolean;
}

/**
 * Options of `ValiBlobModule.forRoot()` / what the factory of `forRootAsync()` returns. Every default is in
 * `VALIBLOB_DEFAULTS`.
 *
 * @publicApi
 */
export interface ValiBlobModuleOptions {
  /**
   * Name of the provider used when none is named.
   * @default the first key of `providers` (`'local'` with the default `providers`)
   */
  defaultProvider?: string;
  /**
   * Named storage providers.
   * @default { local: { root: './data/blobs' } }
   */
  providers?: Record<string, StorageProviderConfig>;
  /**
   * Session store.
   * @default 'memory'
   */
  sessionStore?: SessionStoreConfig;
  /**
   * Largest upload in bytes.
   * @default 5 GiB
   */
  maxUploadSize?: number;
  /**
   * Idle time after which an unfinished upload expires, in ms; slides on every chunk.
   * @default 24 h
   */
  sessionExpiration?: number;
  /**
   * How long completed/aborted sessions stay readable as tombstones, in ms.
   * @default 24 h
   */
  completedRetention?: number;
  /**
   * Per-chunk checksum algorithms accepted.
   * @default ['sha1', 'sha256', 'md5', 'crc32']
   */
  checksumAlgorithms?: ChecksumAlgorithm[];
  /**
   * Record the whole-file sha256 on complete.
   * @default true
   */
  wholeFileChecksum?: boolean;
  /**
   * Worker threads that compute the whole-file sha256 while the main thread writes, fsyncs and commits, so a
   * chunk body never waits for the hash (unless a worker falls 16 MiB behind). States are kept in the workers
   * between chunks; each byte is copied once, in 256 KiB batches. `0` hashes on the main thread, in the body's
   * data path (the right choice on a single core). Started on first use.
   * @default min(4, available cores - 1)
   */
  digestThreads?: number;
  /**
   * A chunk body that sends nothing for this long (ms) is ended; what arrived is kept.
   * @default 60_000
   */
  idleTimeoutMs?: number;
  /**
   * Session store calls that take longer (ms) fail with 503.
   * @default 5_000
   */
  storeTimeoutMs?: number;
  /**
   * Most chunk writes (PATCH / PUT bodies, tus creation-with-upload) in flight on this instance; one more gets
   * 503 `TOO_MANY_WRITES` with `Retry-After`, so slow clients cannot hold every upload lock and file descriptor.
   * @default 64
   */
  maxConcurrentWrites?: number;
  /** Stale-upload cleanup. */
  cleanup?: CleanupOptions;
  /**
   * Authorization hook for the HTTP routes.
   * @default undefined (anonymous access)
   */
  authorize?: AuthorizeHook;
  /**
   * Per-owner path spaces on the built-in routes (`true` = default prefix `owners/<ownerId>/`).
   * @default false
   */
  ownerScope?: boolean | OwnerScopeOptions;
  /** Per-upload lock. */
  lock?: LockOptions;
  /** tus endpoint behaviour. */
  tus?: TusOptions;
  /**
   * Upload policy: hooks, validation, content sniffing, virus scanning and quotas, run for every transport
   * (docs/policy.md).
   * @default undefined (every upload accepted)
   */
  policy?: UploadPolicyOptions;
}

/**
 * Owner scope: each owner's blobs live under their own prefix and the built-in routes speak paths relative to it.
 * Requires an `authorize` hook that answers `{ ownerId }`; callers without an owner are refused (401).
 *
 * @publicApi
 */
export interface OwnerScopeOptions {
  /**
   * Storage prefix of an owner's space. Must end with `/`, be a valid blob path before it, and differ per owner
   * such that no owner's prefix starts with another's.
   * @default (ownerId) => `owners/${ownerId}/`
   */
  prefix?: (ownerId: string) => string;
}

/**
 * Stale-upload cleanup schedule.
 *
 * @publicApi
 */
export interface CleanupOptions {
  /**
   * Run the cron job.
   * @default true
   */
  enabled?: boolean;
  /**
   * Cron expression (5 or 6 fields), parsed at bootstrap.
   * @default '*\/10 * * * *' (every 10 minutes)
   */
  cron?: string;
  /**
   * Sessions handled per batch.
   * @default 500
   */
  batchSize?: number;
  /**
   * Lock so only one instance sweeps per run. Default: the one that follows the session store (TypeORM →
   * PostgreSQL advisory lock or, on SQLite, a lease row in the same database; Redis → `RedisCleanupLock`;
   * memory → process-local); see `lock.scope`.
   * @default the session store's lock
   */
  lock?: CleanupLock | ClassOrFactoryConfig<CleanupLock>;
  /**
   * On shutdown, how long an in-flight sweep may take before it is stopped, in ms.
   * @default 10_000
   */
  shutdownTimeoutMs?: number;
}

/**
 * Per-upload write lock.
 *
 * @publicApi
 */
export interface LockOptions {
  /**
   * How long a request waits for a busy upload before 423, in ms (0: never wait).
   * @default 3_000
   */
  waitMs?: number;
  /**
   * Ask the current holder to stop reading when a newer request arrives (tus's model).
   * @default true
   */
  requestRelease?: boolean;
  /**
   * The locker: an `UploadLocker` instance or `{ useClass | useExisting | useFactory }` recipe. Default: the one
   * that follows the session store (TypeORM → `SqlUploadLocker` on the same database, Redis →
   * `RedisUploadLocker` on the same Redis, memory → process-local).
   * @default the session store's locker
   */
  locker?: UploadLocker | ClassOrFactoryConfig<UploadLocker>;
  /**
   * `'store'`: locks the app does not name follow the session store, as above; a custom store that offers none
   * (`createLocks()`) gets process-local locks and a bootstrap warning. `'process'`: process-local locks on
   * purpose (one instance only; silences the warning). Never safe with several instances on one store.
   * @default 'store'
   */
  scope?: 'store' | 'process';
}
