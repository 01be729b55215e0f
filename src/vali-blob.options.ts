import type { InjectionToken, OptionalFactoryDependency, Type } from '@nestjs/common';
import { InvalidValiBlobOptionsError } from './errors/vali-blob.errors';
import type { ResumableSessionStore } from './sessions/resumable-session-store';
import { StorageProvider } from './storage/storage-provider';
import { CHECKSUM_ALGORITHMS, ChecksumAlgorithm } from './uploads/upload-checksum';
import type { UploadLocker } from './locking/upload-locker';
import type { CleanupLock } from './cleanup/cleanup-lock';
import { CONFLICT_POLICIES, ConflictPolicy } from './uploads/conflict-policy';
import { validateCronExpression } from 'cron';

/** Built-in local disk provider config (`type` may be omitted: local is the default kind). */
export interface LocalProviderConfig {
  type?: 'local';
  /** Directory holding the blobs. */
  root: string;
  /** fsync chunk data before the offset advances (default true). */
  fsync?: boolean;
}

/** Built-in in-memory provider config. */
export interface MemoryProviderConfig {
  type: 'memory';
}

/** A provider entry: a built-in config or a ready instance (S3, Azure or your own `StorageProvider`). */
export type StorageProviderConfig = LocalProviderConfig | MemoryProviderConfig | StorageProvider;

/** DI-style recipe for a custom session store (or locker); resolved when the module starts. */
export type ClassOrFactoryConfig<T> =
  | { useClass: Type<T> }
  | { useExisting: InjectionToken }
  | { useFactory: (...args: any[]) => T | Promise<T>; inject?: Array<InjectionToken | OptionalFactoryDependency> };

/**
 * Where sessions live: `'memory'` (default, single process), a store instance, or a DI recipe. The durable
 * stores come from their subpaths (`@vali-blob/nestjs/typeorm`, `@vali-blob/nestjs/redis`) as recipes.
 */
export type SessionStoreConfig =
  | 'memory'
  | { type: 'memory' }
  | TypeOrmSessionStoreConfig
  | ResumableSessionStore
  | ClassOrFactoryConfig<ResumableSessionStore>;

/**
 * Durable sessions in the app's TypeORM DataSource (`TypeOrmModule.forRoot` in the app). With `forRoot` the
 * entities are registered with `TypeOrmModule.forFeature`, so `autoLoadEntities` picks them up; with
 * `forRootAsync` list `VALIBLOB_ENTITIES` in the DataSource's entities (bootstrap says so when they are missing).
 * The per-upload lock and the cleanup lock then follow the database (see `lock`).
 */
export interface TypeOrmSessionStoreConfig {
  type: 'typeorm';
  /** Name of the DataSource (`TypeOrmModule.forRoot({ name })`); default the unnamed one. */
  dataSourceName?: string;
  /** Options of the default SQL upload lock (lease `ttlMs`, polling). */
  lock?: import('./locking/sql/sql-upload-locker.options').SqlUploadLockerOptions;
}

/** Every action the authorize hook is asked about. */
export type UploadAction = 'create' | 'write' | 'status' | 'complete' | 'abort' | 'read';

/**
 * What the authorize hook receives. `request` is the platform request (Express or Fastify).
 *
 * Paths are as the client sent them: before tus naming and before owner scope adds the owner's prefix (the hook
 * decides who the caller is; the prefix follows from its answer).
 */
export interface AuthorizeContext {
  action: UploadAction;
  request: unknown;
  /** Present for actions on an existing upload. */
  uploadId?: string;
  /** Blob reads: the requested path. `create` over REST: the `path` of the body when it is a string. */
  path?: string;
  /** `create`: the provider named by the client (`undefined` = the default provider). */
  provider?: string;
  /** `create`: true when the client asked to replace an existing blob (`conflict` resolves to `overwrite`). */
  overwrite?: boolean;
  /** `create`: the conflict policy the upload will use at complete (see `ConflictPolicy`). */
  conflict?: ConflictPolicy;
  /** `create` of a tus final upload: the partial upload ids it concatenates. */
  partials?: string[];
}

/**
 * Owner scope: each owner's blobs live under their own prefix and the built-in routes speak paths relative to it.
 * Requires an `authorize` hook that answers `{ ownerId }`; callers without an owner are refused (401).
 */
export interface OwnerScopeOptions {
  /**
   * Storage prefix of an owner's space (default `owners/<ownerId>/`). Must end with `/`, be a valid blob path
   * before it, and differ per owner such that no owner's prefix starts with another's.
   */
  prefix?: (ownerId: string) => string;
}

/**
 * Result of the authorize hook: `false` refuses (401), `true` allows anonymously, an object allows and binds
 * the upload to `ownerId` (other owners then get 404 for it), `{ allow: false, status: 403 }` refuses with 403.
 */
export type AuthorizeResult = boolean | { ownerId?: string | null } | { allow: false; status?: 401 | 403; message?: string };

/** Hook called on every HTTP request of the built-in routes, before anything is read or written. */
export type AuthorizeHook = (context: AuthorizeContext) => AuthorizeResult | Promise<AuthorizeResult>;

/** Stale-upload cleanup schedule. */
export interface CleanupOptions {
  /** Run the cron job (default true). */
  enabled?: boolean;
  /** Cron expression (default every 10 minutes). */
  cron?: string;
  /** Sessions handled per batch (default 500). */
  batchSize?: number;
  /**
   * Lock so only one instance sweeps per run. Default: the one that follows the session store (TypeORM →
   * PostgreSQL advisory lock or, on SQLite, a lease row in the same database; Redis → `RedisCleanupLock`;
   * memory → process-local); see `lock.scope`.
   */
  lock?: CleanupLock | ClassOrFactoryConfig<CleanupLock>;
  /** On shutdown, how long an in-flight sweep may take before it is stopped (default 10 000 ms). */
  shutdownTimeoutMs?: number;
}

/** Per-upload write lock. */
export interface LockOptions {
  /** How long a request waits for a busy upload before 423 (default 3000 ms). */
  waitMs?: number;
  /** Ask the current holder to stop reading when a newer request arrives (default true, tus's model). */
  requestRelease?: boolean;
  /**
   * The locker. Default: the one that follows the session store (TypeORM → `SqlUploadLocker` on the same
   * database, Redis → `RedisUploadLocker` on the same Redis, memory → process-local).
   */
  locker?: UploadLocker | ClassOrFactoryConfig<UploadLocker>;
  /**
   * `'store'` (default): locks the app does not name follow the session store, as above; a custom store that
   * offers none (`createLocks()`) gets process-local locks and a bootstrap warning. `'process'`: process-local
   * locks on purpose (one instance only; silences the warning). Never safe with several instances on one store.
   */
  scope?: 'store' | 'process';
}

/** Options of `ValiBlobModule.forRoot()` / the factory of `forRootAsync()`. */
export interface ValiBlobModuleOptions {
  /** Name of the provider used when none is named (default `local`). */
  defaultProvider?: string;
  /** Named storage providers (default `{ local: { root: './data/blobs' } }`). */
  providers?: Record<string, StorageProviderConfig>;
  /** Session store (default in-memory). */
  sessionStore?: SessionStoreConfig;
  /** Largest upload in bytes (default 5 GiB). */
  maxUploadSize?: number;
  /** Idle time after which an unfinished upload expires, in ms; slides on every chunk (default 24 h). */
  sessionExpiration?: number;
  /** How long completed/aborted sessions stay readable as tombstones, in ms (default 24 h). */
  completedRetention?: number;
  /** Per-chunk checksum algorithms accepted (default sha1, sha256, md5, crc32). */
  checksumAlgorithms?: ChecksumAlgorithm[];
  /** Record the whole-file sha256 on complete (default true). */
  wholeFileChecksum?: boolean;
  /** A chunk body that sends nothing for this long is ended; what arrived is kept (default 60 000 ms). */
  idleTimeoutMs?: number;
  /** Session store calls that take longer fail with 503 (default 5000 ms). */
  storeTimeoutMs?: number;
  /**
   * Most chunk writes (PATCH / PUT bodies, tus creation-with-upload) in flight on this instance; one more gets
   * 503 `TOO_MANY_WRITES` with `Retry-After`, so slow clients cannot hold every upload lock and file descriptor
   * (default 64).
   */
  maxConcurrentWrites?: number;
  /** Stale-upload cleanup. */
  cleanup?: CleanupOptions;
  /** Authorization hook for the HTTP routes. */
  authorize?: AuthorizeHook;
  /** Per-owner path spaces on the built-in routes (`true` = default prefix `owners/<ownerId>/`). Default off. */
  ownerScope?: boolean | OwnerScopeOptions;
  /** Per-upload lock. */
  lock?: LockOptions;
  /** tus endpoint behaviour. */
  tus?: TusOptions;
}

/** tus endpoint options (behaviour; the mount path is a static `http` option of the module). */
export interface TusOptions {
  /** Answer OPTIONS with 200 instead of 204 (some old browsers reject a 204 preflight). Default false. */
  optionsStatus200?: boolean;
  /** Absolute base URL for `Location` (e.g. `https://api.example.com/files`); default relative. */
  baseUrl?: string;
  /** Use `X-Forwarded-Host`/`-Proto` for absolute `Location`s; only behind a trusted proxy. Default false. */
  trustForwardedHeaders?: boolean;
  /** Allow DELETE of finished uploads (default false → 400). */
  allowTerminateFinished?: boolean;
  /** Where a tus upload is stored; default `tus/<uploadId>/<sanitised filename>`. */
  naming?: (input: { uploadId: string; metadata: Record<string, string>; request: unknown }) => string | Promise<string>;
  /** CORS: allowed origins (`'*'`, a list, or false to leave CORS to the app). Default false. */
  cors?: false | '*' | string[];
  /** Largest `Upload-Metadata` header in bytes (default 4096). */
  maxMetadataSize?: number;
  /**
   * Conflict policy of tus uploads when the (named) path already holds a blob at complete; tus clients cannot
   * choose it (default `fail`: 409 BLOB_EXISTS, the existing blob kept). Matters only with a `naming` that can
   * repeat a path: the default naming puts the upload id in the path.
   */
  conflict?: ConflictPolicy;
}

/** Static (module-definition time) options: where the controllers are mounted. */
export interface ValiBlobHttpOptions {
  /** tus 1.0 endpoint (default `{ path: 'files' }`); `false` to mount none. */
  tus?: { path: string } | false;
  /** REST three-step API (default `{ path: 'uploads' }`); `false` to mount none. */
  rest?: { path: string } | false;
  /** Blob read route `/<path>/*` (GET with Range, HEAD); default `false` (off: it exposes stored blobs). */
  blobs?: { path: string } | false;
  /**
   * Keep the HTTP server's `requestTimeout` as the app set it (default `false`: when tus or REST is mounted,
   * ValiBlob sets it to 0 at bootstrap so Node's 300 s default cannot cut a long chunk; stalled bodies end
   * after `idleTimeoutMs`).
   */
  keepRequestTimeout?: boolean;
}

/** Options after defaults; what the services receive. */
export interface ResolvedValiBlobOptions {
  defaultProvider: string;
  providers: Record<string, StorageProviderConfig>;
  sessionStore: SessionStoreConfig;
  maxUploadSize: number;
  sessionExpiration: number;
  completedRetention: number;
  checksumAlgorithms: ChecksumAlgorithm[];
  wholeFileChecksum: boolean;
  idleTimeoutMs: number;
  storeTimeoutMs: number;
  maxConcurrentWrites: number;
  cleanup: Required<Omit<CleanupOptions, 'lock'>> & Pick<CleanupOptions, 'lock'>;
  authorize?: AuthorizeHook;
  /** Owner scope with its prefix function, or `null` when off. */
  ownerScope: { prefix: (ownerId: string) => string } | null;
  lock: { waitMs: number; requestRelease: boolean; scope: 'store' | 'process'; locker?: LockOptions['locker'] };
  tus: Required<Omit<TusOptions, 'baseUrl' | 'naming'>> & Pick<TusOptions, 'baseUrl' | 'naming'>;
}

const GiB = 1024 ** 3;
const HOUR = 3_600_000;

/** Default options (documented in the README; keep both in step). */
export const VALIBLOB_DEFAULTS = {
  defaultProvider: 'local',
  localRoot: './data/blobs',
  maxUploadSize: 5 * GiB,
  sessionExpiration: 24 * HOUR,
  completedRetention: 24 * HOUR,
  idleTimeoutMs: 60_000,
  storeTimeoutMs: 5_000,
  maxConcurrentWrites: 64,
  cleanupCron: '*/10 * * * *',
  cleanupBatchSize: 500,
  cleanupShutdownTimeoutMs: 10_000,
  lockWaitMs: 3_000,
  maxMetadataSize: 4096,
} as const;

/**
 * Apply defaults and validate, collecting every problem before failing (one bootstrap tells the operator
 * everything that is wrong). Used by both `forRoot` and `forRootAsync`.
 */
export function resolveValiBlobOptions(input: ValiBlobModuleOptions | undefined | null): ResolvedValiBlobOptions {
  const options = input ?? {};
  const problems: string[] = [];
  if (typeof options !== 'object') throw new InvalidValiBlobOptionsError(['options must be an object']);

  const providers = options.providers ?? { local: { root: VALIBLOB_DEFAULTS.localRoot } };
  const defaultProvider = options.defaultProvider ?? Object.keys(providers)[0] ?? VALIBLOB_DEFAULTS.defaultProvider;
  if (typeof providers !== 'object' || providers === null || Object.keys(providers).length === 0) {
    problems.push('providers must name at least one storage provider');
  } else {
    for (const [name, config] of Object.entries(providers)) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) problems.push(`providers: name "${name}" must match [A-Za-z0-9_-]{1,64}`);
      if (config instanceof StorageProvider) continue;
      if (!config || typeof config !== 'object') {
        problems.push(`providers.${name} must be a config object or a StorageProvider instance`);
      } else if ((config as MemoryProviderConfig).type === 'memory') {
        continue;
      } else if ((config as LocalProviderConfig).type !== undefined && (config as LocalProviderConfig).type !== 'local') {
        problems.push(`providers.${name}.type must be 'local' or 'memory' (pass an instance for other providers)`);
      } else if (typeof (config as LocalProviderConfig).root !== 'string' || (config as LocalProviderConfig).root === '') {
        problems.push(`providers.${name}.root must be a non-empty directory path`);
      }
    }
    if (!(defaultProvider in providers)) problems.push(`defaultProvider "${defaultProvider}" is not one of providers`);
  }

  const positiveInt = (key: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      problems.push(`${key} must be a positive integer (got ${JSON.stringify(value)})`);
      return fallback;
    }
    return value;
  };
  const maxUploadSize = positiveInt('maxUploadSize', options.maxUploadSize, VALIBLOB_DEFAULTS.maxUploadSize);
  const sessionExpiration = positiveInt('sessionExpiration', options.sessionExpiration, VALIBLOB_DEFAULTS.sessionExpiration);
  const completedRetention = positiveInt('completedRetention', options.completedRetention, VALIBLOB_DEFAULTS.completedRetention);
  const idleTimeoutMs = positiveInt('idleTimeoutMs', options.idleTimeoutMs, VALIBLOB_DEFAULTS.idleTimeoutMs);
  const storeTimeoutMs = positiveInt('storeTimeoutMs', options.storeTimeoutMs, VALIBLOB_DEFAULTS.storeTimeoutMs);
  const maxConcurrentWrites = positiveInt(
    'maxConcurrentWrites',
    options.maxConcurrentWrites,
    VALIBLOB_DEFAULTS.maxConcurrentWrites,
  );

  const checksumAlgorithms = options.checksumAlgorithms ?? [...CHECKSUM_ALGORITHMS];
  if (!Array.isArray(checksumAlgorithms)) problems.push('checksumAlgorithms must be an array');
  else {
    for (const algorithm of checksumAlgorithms) {
      if (!CHECKSUM_ALGORITHMS.includes(algorithm)) {
        problems.push(`checksumAlgorithms: "${algorithm}" is not one of ${CHECKSUM_ALGORITHMS.join(', ')}`);
      }
    }
  }

  const cleanup = options.cleanup ?? {};
  const cleanupCron = cleanup.cron ?? VALIBLOB_DEFAULTS.cleanupCron;
  if (typeof cleanupCron !== 'string' || cleanupCron.trim().split(/\s+/).length < 5) {
    problems.push(`cleanup.cron must be a cron expression with 5 or 6 fields (got ${JSON.stringify(cleanupCron)})`);
  } else {
    // A real parse (the `cron` package the job runs on), so "61 * * * *" fails at bootstrap, not at the first tick.
    const parsed = validateCronExpression(cleanupCron);
    if (!parsed.valid) problems.push(`cleanup.cron ${JSON.stringify(cleanupCron)} is invalid: ${parsed.error?.message ?? 'unparseable'}`);
  }
  const batchSize = positiveInt('cleanup.batchSize', cleanup.batchSize, VALIBLOB_DEFAULTS.cleanupBatchSize);
  const cleanupShutdownTimeoutMs = positiveInt(
    'cleanup.shutdownTimeoutMs',
    cleanup.shutdownTimeoutMs,
    VALIBLOB_DEFAULTS.cleanupShutdownTimeoutMs,
  );
  if (cleanup.lock !== undefined && !isCleanupLockConfig(cleanup.lock)) {
    problems.push('cleanup.lock must be a CleanupLock instance or { useClass | useExisting | useFactory }');
  }

  if (options.authorize !== undefined && typeof options.authorize !== 'function') {
    problems.push('authorize must be a function');
  }
  let ownerScope: ResolvedValiBlobOptions['ownerScope'] = null;
  if (options.ownerScope !== undefined && options.ownerScope !== false) {
    const scope = options.ownerScope === true ? {} : options.ownerScope;
    if (!scope || typeof scope !== 'object') {
      problems.push('ownerScope must be true, false or { prefix?: (ownerId) => string }');
    } else if (scope.prefix !== undefined && typeof scope.prefix !== 'function') {
      problems.push('ownerScope.prefix must be a function');
    } else ownerScope = { prefix: scope.prefix ?? defaultOwnerPrefix };
    // Without a hook nobody has an owner, so every request would be refused: say so at bootstrap instead.
    if (typeof options.authorize !== 'function') {
      problems.push('ownerScope needs an authorize hook that answers { ownerId }');
    }
  }
  const lock = options.lock ?? {};
  const lockWaitMs = lock.waitMs === 0 ? 0 : positiveInt('lock.waitMs', lock.waitMs, VALIBLOB_DEFAULTS.lockWaitMs);
  if (lock.scope !== undefined && lock.scope !== 'store' && lock.scope !== 'process') {
    problems.push(`lock.scope must be 'store' or 'process' (got ${JSON.stringify(lock.scope)})`);
  }

  const tus = options.tus ?? {};
  if (tus.baseUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(tus.baseUrl)) problems.push('tus.baseUrl must be an http(s) URL');
  if (tus.naming !== undefined && typeof tus.naming !== 'function') problems.push('tus.naming must be a function');
  if (tus.cors !== undefined && tus.cors !== false && tus.cors !== '*' && !Array.isArray(tus.cors)) {
    problems.push("tus.cors must be false, '*' or a list of origins");
  }
  if (tus.conflict !== undefined && !CONFLICT_POLICIES.includes(tus.conflict)) {
    problems.push(`tus.conflict must be one of ${CONFLICT_POLICIES.join(', ')}`);
  }
  const maxMetadataSize = positiveInt('tus.maxMetadataSize', tus.maxMetadataSize, VALIBLOB_DEFAULTS.maxMetadataSize);

  const sessionStore = options.sessionStore ?? 'memory';
  if (!isSessionStoreConfig(sessionStore)) {
    problems.push("sessionStore must be 'memory', a ResumableSessionStore, or { useClass | useExisting | useFactory }");
  }

  if (problems.length > 0) throw new InvalidValiBlobOptionsError(problems);
  return {
    defaultProvider,
    providers,
    sessionStore,
    maxUploadSize,
    sessionExpiration,
    completedRetention,
    checksumAlgorithms,
    wholeFileChecksum: options.wholeFileChecksum !== false,
    idleTimeoutMs,
    storeTimeoutMs,
    maxConcurrentWrites,
    cleanup: {
      enabled: cleanup.enabled !== false,
      cron: cleanupCron,
      batchSize,
      lock: cleanup.lock,
      shutdownTimeoutMs: cleanupShutdownTimeoutMs,
    },
    authorize: options.authorize,
    ownerScope,
    lock: { waitMs: lockWaitMs, requestRelease: lock.requestRelease !== false, scope: lock.scope ?? 'store', locker: lock.locker },
    tus: {
      optionsStatus200: tus.optionsStatus200 === true,
      baseUrl: tus.baseUrl?.replace(/\/+$/, ''),
      trustForwardedHeaders: tus.trustForwardedHeaders === true,
      allowTerminateFinished: tus.allowTerminateFinished === true,
      naming: tus.naming,
      cors: tus.cors ?? false,
      maxMetadataSize,
      conflict: tus.conflict ?? 'fail',
    },
  };
}

/** Default owner-scope prefix: `owners/<ownerId>/`. */
export function defaultOwnerPrefix(ownerId: string): string {
  return `owners/${ownerId}/`;
}

/** Validate the static `http` option; problems are reported with the rest at bootstrap. */
export function resolveHttpOptions(http: ValiBlobHttpOptions | undefined): {
  tus: string | null;
  rest: string | null;
  blobs: string | null;
  keepRequestTimeout: boolean;
} {
  const problems: string[] = [];
  const keep = http?.keepRequestTimeout;
  if (keep !== undefined && typeof keep !== 'boolean') problems.push('http.keepRequestTimeout must be a boolean');
  const pick = (key: 'tus' | 'rest' | 'blobs', fallback: string | null): string | null => {
    const value = http?.[key];
    if (value === undefined) return fallback;
    if (value === false) return null;
    if (!value || typeof value.path !== 'string' || !/^[A-Za-z0-9_\-./]*$/.test(value.path) || value.path.includes('..')) {
      problems.push(`http.${key}.path must be a URL path of letters, digits, - _ . /`);
      return fallback;
    }
    return value.path.replace(/^\/+|\/+$/g, '');
  };
  const result = {
    tus: pick('tus', 'files'),
    rest: pick('rest', 'uploads'),
    blobs: pick('blobs', null),
    keepRequestTimeout: keep === true,
  };
  if (problems.length > 0) throw new InvalidValiBlobOptionsError(problems);
  return result;
}

function isSessionStoreConfig(value: unknown): boolean {
  if (value === 'memory') return true;
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  if (v.type === 'memory' || v.type === 'typeorm') return true;
  if (typeof v.useClass === 'function' || 'useExisting' in v || typeof v.useFactory === 'function') return true;
  // A store instance: duck-typed so stores from another copy of the package still work.
  return ['save', 'get', 'update', 'delete', 'advance', 'find', 'deleteMany', 'findExpired', 'ping'].every(
    (m) => typeof v[m] === 'function',
  );
}

function isCleanupLockConfig(value: unknown): boolean {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.tryAcquire === 'function' || typeof v.useClass === 'function' || 'useExisting' in v || typeof v.useFactory === 'function';
}
