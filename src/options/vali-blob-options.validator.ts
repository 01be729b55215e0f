import { validateCronExpression } from 'cron';
import { InvalidValiBlobOptionsError } from '../errors/vali-blob.errors';
import { validateBlobPath } from '../storage/blob-path';
import { StorageProvider } from '../storage/storage-provider';
import { CONFLICT_POLICIES } from '../uploads/conflict-policy';
import { CHECKSUM_ALGORITHMS } from '../uploads/upload-checksum';
import { OptionProblems } from './option-problems';
import { isCleanupLockConfig, isSessionStoreConfig, isUploadLockerConfig } from './pluggable-config.guards';
import type { LocalProviderConfig, MemoryProviderConfig } from './pluggable-config.interface';
import type { ResolvedValiBlobOptions } from './resolved-vali-blob-options.interface';
import { defaultDigestThreads, defaultOwnerPrefix, VALIBLOB_DEFAULTS } from './vali-blob.defaults';
import { readPolicyOptions } from './upload-policy-options.validator';
import { readHttpOptions } from './vali-blob-http-options.validator';
import type { ValiBlobHttpOptions } from './vali-blob-http-options.interface';
import type { ValiBlobModuleOptions } from './vali-blob-options.interface';

/** Top-level options that are positive integers, each with the default of the same name. */
const NUMERIC_OPTIONS = [
  'maxUploadSize',
  'sessionExpiration',
  'completedRetention',
  'idleTimeoutMs',
  'storeTimeoutMs',
  'maxConcurrentWrites',
] as const;
type NumericOption = (typeof NUMERIC_OPTIONS)[number];

/**
 * Apply defaults and validate, collecting every problem before failing (one bootstrap tells the operator
 * everything that is wrong). Used by both `forRoot` and `forRootAsync`; the module passes its static `http`
 * option too, so problems with it are in the same report.
 *
 * @throws InvalidValiBlobOptionsError listing every problem.
 * @publicApi
 */
export function resolveValiBlobOptions(
  input: ValiBlobModuleOptions | undefined | null,
  http?: ValiBlobHttpOptions,
): ResolvedValiBlobOptions {
  const options = input ?? {};
  if (typeof options !== 'object') throw new InvalidValiBlobOptionsError(['options must be an object']);
  const problems = new OptionProblems();

  const providers = options.providers ?? { [VALIBLOB_DEFAULTS.defaultProvider]: { root: VALIBLOB_DEFAULTS.localRoot } };
  const defaultProvider = options.defaultProvider ?? Object.keys(providers)[0] ?? VALIBLOB_DEFAULTS.defaultProvider;
  checkProviders(providers, defaultProvider, problems);

  const numbers = {} as Record<NumericOption, number>;
  for (const key of NUMERIC_OPTIONS) numbers[key] = problems.positiveInt(key, options[key], VALIBLOB_DEFAULTS[key]);

  const checksumAlgorithms = options.checksumAlgorithms ?? [...VALIBLOB_DEFAULTS.checksumAlgorithms];
  if (!Array.isArray(checksumAlgorithms)) problems.add('checksumAlgorithms must be an array');
  else {
    for (const algorithm of checksumAlgorithms) {
      if (!CHECKSUM_ALGORITHMS.includes(algorithm)) {
        problems.add(`checksumAlgorithms: "${algorithm}" is not one of ${CHECKSUM_ALGORITHMS.join(', ')}`);
      }
    }
  }

  const cleanup = resolveCleanup(options.cleanup ?? {}, problems);

  if (options.authorize !== undefined && typeof options.authorize !== 'function') {
    problems.add('authorize must be a function');
  }
  const ownerScope = resolveOwnerScope(options, problems);

  const lock = options.lock ?? {};
  // 0 is allowed here: never wait for a busy upload.
  const lockWaitMs =
    lock.waitMs === 0 ? 0 : problems.positiveInt('lock.waitMs', lock.waitMs, VALIBLOB_DEFAULTS.lockWaitMs);
  if (lock.scope !== undefined && lock.scope !== 'store' && lock.scope !== 'process') {
    problems.add(`lock.scope must be 'store' or 'process' (got ${JSON.stringify(lock.scope)})`);
  }
  if (lock.locker !== undefined && !isUploadLockerConfig(lock.locker)) {
    problems.add('lock.locker must be an UploadLocker instance or { useClass | useExisting | useFactory }');
  }

  const tus = resolveTus(options.tus ?? {}, problems);

  const sessionStore = options.sessionStore ?? VALIBLOB_DEFAULTS.sessionStore;
  if (!isSessionStoreConfig(sessionStore)) {
    problems.add("sessionStore must be 'memory', a ResumableSessionStore, or { useClass | useExisting | useFactory }");
  }

  const policy = readPolicyOptions(options.policy, problems);
  for (const problem of readHttpOptions(http).problems) problems.add(problem);

  const digestThreads = problems.intInRange('digestThreads', options.digestThreads, defaultDigestThreads(), 0, 64);

  if (problems.list.length > 0) throw new InvalidValiBlobOptionsError(problems.list);
  return {
    defaultProvider,
    providers,
    sessionStore,
    ...numbers,
    checksumAlgorithms,
    wholeFileChecksum: flag(options.wholeFileChecksum, VALIBLOB_DEFAULTS.wholeFileChecksum),
    digestThreads,
    cleanup,
    authorize: options.authorize,
    ownerScope,
    lock: {
      waitMs: lockWaitMs,
      requestRelease: flag(lock.requestRelease, VALIBLOB_DEFAULTS.lockRequestRelease),
      scope: lock.scope ?? VALIBLOB_DEFAULTS.lockScope,
      locker: lock.locker,
    },
    tus,
    policy,
  };
}

/** A boolean option: only the explicit opposite of its default changes it (other values read as the default). */
function flag(value: unknown, fallback: boolean): boolean {
  return value === !fallback ? !fallback : fallback;
}

function checkProviders(
  providers: ValiBlobModuleOptions['providers'],
  defaultProvider: string,
  problems: OptionProblems,
): void {
  if (typeof providers !== 'object' || providers === null || Object.keys(providers).length === 0) {
    problems.add('providers must name at least one storage provider');
    return;
  }
  for (const [name, config] of Object.entries(providers)) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) problems.add(`providers: name "${name}" must match [A-Za-z0-9_-]{1,64}`);
    if (config instanceof StorageProvider) continue;
    if (!config || typeof config !== 'object') {
      problems.add(`providers.${name} must be a config object or a StorageProvider instance`);
      continue;
    }
    const builtIn = config as LocalProviderConfig | MemoryProviderConfig;
    if (builtIn.type === 'memory') continue;
    if (builtIn.type !== undefined && builtIn.type !== 'local') {
      problems.add(`providers.${name}.type must be 'local' or 'memory' (pass an instance for other providers)`);
    } else if (typeof builtIn.root !== 'string' || builtIn.root === '') {
      problems.add(`providers.${name}.root must be a non-empty directory path`);
    }
  }
  if (!(defaultProvider in providers)) problems.add(`defaultProvider "${defaultProvider}" is not one of providers`);
}

function resolveCleanup(
  cleanup: NonNullable<ValiBlobModuleOptions['cleanup']>,
  problems: OptionProblems,
): ResolvedValiBlobOptions['cleanup'] {
  const cron = cleanup.cron ?? VALIBLOB_DEFAULTS.cleanupCron;
  if (typeof cron !== 'string' || cron.trim().split(/\s+/).length < 5) {
    problems.add(`cleanup.cron must be a cron expression with 5 or 6 fields (got ${JSON.stringify(cron)})`);
  } else {
    // A real parse (the `cron` package the job runs on), so "61 * * * *" fails at bootstrap, not at the first tick.
    const parsed = validateCronExpression(cron);
    if (!parsed.valid) {
      problems.add(`cleanup.cron ${JSON.stringify(cron)} is invalid: ${parsed.error?.message ?? 'unparseable'}`);
    }
  }
  const batchSize = problems.positiveInt('cleanup.batchSize', cleanup.batchSize, VALIBLOB_DEFAULTS.cleanupBatchSize);
  const shutdownTimeoutMs = problems.positiveInt(
    'cleanup.shutdownTimeoutMs',
    cleanup.shutdownTimeoutMs,
    VALIBLOB_DEFAULTS.cleanupShutdownTimeoutMs,
  );
  if (cleanup.lock !== undefined && !isCleanupLockConfig(cleanup.lock)) {
    problems.add('cleanup.lock must be a CleanupLock instance or { useClass | useExisting | useFactory }');
  }
  return {
    enabled: flag(cleanup.enabled, VALIBLOB_DEFAULTS.cleanupEnabled),
    cron,
    batchSize,
    lock: cleanup.lock,
    shutdownTimeoutMs,
  };
}

/** Owner ids the prefix function is tried with at bootstrap (any safe owner id must give a valid, own prefix). */
const PROBE_OWNERS = ['owner-a', 'owner-b'] as const;

function resolveOwnerScope(
  options: ValiBlobModuleOptions,
  problems: OptionProblems,
): ResolvedValiBlobOptions['ownerScope'] {
  const setting = options.ownerScope === undefined ? VALIBLOB_DEFAULTS.ownerScope : options.ownerScope;
  if (setting === false) return null;
  const scope = setting === true ? {} : setting;
  let resolved: ResolvedValiBlobOptions['ownerScope'] = null;
  if (!scope || typeof scope !== 'object') {
    problems.add('ownerScope must be true, false or { prefix?: (ownerId) => string }');
  } else if (scope.prefix !== undefined && typeof scope.prefix !== 'function') {
    problems.add('ownerScope.prefix must be a function');
  } else {
    resolved = { prefix: scope.prefix ?? defaultOwnerPrefix };
    // A wrong prefix function is a configuration mistake: find it at bootstrap, not on a request.
    const problem = probeOwnerPrefix(resolved.prefix);
    if (problem) problems.add(problem);
  }
  // Without a hook nobody has an owner, so every request would be refused: say so at bootstrap instead.
  if (typeof options.authorize !== 'function') {
    problems.add('ownerScope needs an authorize hook that answers { ownerId }');
  }
  return resolved;
}

function probeOwnerPrefix(prefix: (ownerId: string) => string): string | undefined {
  const [a, b] = PROBE_OWNERS.map((owner) => {
    try {
      const value = prefix(owner);
      if (typeof value !== 'string' || !value.endsWith('/')) return { error: `returned ${JSON.stringify(value)}` };
      validateBlobPath(value.slice(0, -1));
      return { value };
    } catch (error) {
      return { error: `threw ${(error as Error)?.message ?? String(error)}` };
    }
  });
  if (a.error ?? b.error) {
    return `ownerScope.prefix must return a valid blob path ending with "/" for any owner id (for "owner-a" it ${
      a.error ?? b.error
    })`;
  }
  if (a.value!.startsWith(b.value!) || b.value!.startsWith(a.value!)) {
    return (
      'ownerScope.prefix must give every owner its own prefix ' + `("owner-a" → "${a.value}", "owner-b" → "${b.value}")`
    );
  }
  return undefined;
}

function resolveTus(
  tus: NonNullable<ValiBlobModuleOptions['tus']>,
  problems: OptionProblems,
): ResolvedValiBlobOptions['tus'] {
  if (tus.baseUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(tus.baseUrl)) {
    problems.add('tus.baseUrl must be an http(s) URL');
  }
  if (tus.naming !== undefined && typeof tus.naming !== 'function') problems.add('tus.naming must be a function');
  if (tus.cors !== undefined && tus.cors !== false && tus.cors !== '*' && !Array.isArray(tus.cors)) {
    problems.add("tus.cors must be false, '*' or a list of origins");
  }
  if (tus.conflict !== undefined && !CONFLICT_POLICIES.includes(tus.conflict)) {
    problems.add(`tus.conflict must be one of ${CONFLICT_POLICIES.join(', ')}`);
  }
  return {
    optionsStatus200: flag(tus.optionsStatus200, VALIBLOB_DEFAULTS.tusOptionsStatus200),
    baseUrl: tus.baseUrl?.replace(/\/+$/, ''),
    trustForwardedHeaders: flag(tus.trustForwardedHeaders, VALIBLOB_DEFAULTS.tusTrustForwardedHeaders),
    allowTerminateFinished: flag(tus.allowTerminateFinished, VALIBLOB_DEFAULTS.tusAllowTerminateFinished),
    naming: tus.naming,
    cors: tus.cors ?? VALIBLOB_DEFAULTS.tusCors,
    maxMetadataSize: problems.positiveInt(
      'tus.maxMetadataSize',
      tus.maxMetadataSize,
      VALIBLOB_DEFAULTS.maxMetadataSize,
    ),
    conflict: tus.conflict ?? VALIBLOB_DEFAULTS.tusConflict,
    ietfDraft: flag(tus.ietfDraft, VALIBLOB_DEFAULTS.tusIetfDraft),
    ietfInterimResponses: flag(tus.ietfInterimResponses, VALIBLOB_DEFAULTS.tusIetfInterimResponses),
  };
}
