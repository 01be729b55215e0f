import { availableParallelism } from 'node:os';
import { CHECKSUM_ALGORITHMS } from '../uploads/upload-checksum';

const GiB = 1024 ** 3;
const HOUR = 3_600_000;

/**
 * Every default of the module in one table (documented in docs/configuration.md and the README; keep them in
 * step). The validator applies these; code that needs a default reads it from here instead of a literal.
 *
 * @publicApi
 */
export const VALIBLOB_DEFAULTS = {
  /**
   * Name of the provider of the default `providers` table. With `providers` set, the default provider is their
   * first key.
   */
  defaultProvider: 'local',
  /** Root directory of the default local provider. */
  localRoot: './data/blobs',
  /** The session store: in process memory. */
  sessionStore: 'memory',
  maxUploadSize: 5 * GiB,
  sessionExpiration: 24 * HOUR,
  completedRetention: 24 * HOUR,
  checksumAlgorithms: CHECKSUM_ALGORITHMS,
  wholeFileChecksum: true,
  idleTimeoutMs: 60_000,
  /** Deadline of every session store call made by the engine and the cleanup job. */
  storeTimeoutMs: 5_000,
  maxConcurrentWrites: 64,
  cleanupEnabled: true,
  cleanupCron: '*/10 * * * *',
  cleanupBatchSize: 500,
  cleanupShutdownTimeoutMs: 10_000,
  lockWaitMs: 3_000,
  lockRequestRelease: true,
  lockScope: 'store',
  ownerScope: false,
  tusOptionsStatus200: false,
  tusTrustForwardedHeaders: false,
  tusAllowTerminateFinished: false,
  tusCors: false,
  maxMetadataSize: 4096,
  tusConflict: 'fail',
  tusIetfDraft: true,
  tusIetfInterimResponses: true,
  /** Static `http` option: mount path of the tus controller. */
  tusPath: 'files',
  /** Static `http` option: mount path of the REST controller. */
  restPath: 'uploads',
  /** Static `http` option: the blob read route is off unless mounted. */
  blobsPath: false,
  keepRequestTimeout: false,
  isGlobal: false,
  /** On shutdown, how long the engine waits for in-flight chunk writes to finish before interrupting them. */
  shutdownDrainMs: 10_000,
  /** Budget of one health probe (`ValiBlobHealthIndicator`): well under orchestrators' usual 5-10 s. */
  healthTimeoutMs: 2_000,
  /** Expired sessions the cleanup-backlog health check tolerates before it reports `down`. */
  healthMaxExpired: 10_000,
} as const;

/**
 * Default owner-scope prefix: `owners/<ownerId>/`.
 *
 * @publicApi
 */
export function defaultOwnerPrefix(ownerId: string): string {
  return `owners/${ownerId}/`;
}

/**
 * Default `digestThreads`: one per core beyond the one the main thread uses, at most 4 (one sha256 runs on one
 * thread; more only help many parallel uploads). 0 on a single core: a worker there only adds copying.
 */
export function defaultDigestThreads(cores = availableParallelism()): number {
  return Math.max(0, Math.min(4, cores - 1));
}
