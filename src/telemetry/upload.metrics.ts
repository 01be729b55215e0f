import { metrics } from '@opentelemetry/api';
import type { Attributes, Counter, Gauge, Histogram, MeterProvider, UpDownCounter } from '@opentelemetry/api';
import { VALIBLOB_METRICS as M, VALIBLOB_TELEMETRY_SCOPE } from './telemetry.names';

/** The instruments of one meter provider. */
interface Instruments {
  started: Counter;
  completed: Counter;
  aborted: Counter;
  expired: Counter;
  rejected: Counter;
  failures: Counter;
  receivedBytes: Counter;
  lockConflicts: Counter;
  storeErrors: Counter;
  cleanupRuns: Counter;
  chunkDuration: Histogram;
  completeDuration: Histogram;
  lockWaitDuration: Histogram;
  storeDuration: Histogram;
  chunksInFlight: UpDownCounter;
  cleanupBacklog: Gauge;
}

/** Upload transitions that have a counter. */
export type UploadTransition = 'started' | 'completed' | 'aborted' | 'expired' | 'rejected';

/** Cleanup run outcomes (`valiblob.cleanup.runs{outcome}`). */
export type CleanupOutcome = 'swept' | 'skipped' | 'failed';

/**
 * ValiBlob's metric instruments, through `@opentelemetry/api` only: without an SDK every call is a no-op.
 *
 * The metrics API has no proxy provider (unlike tracing): a meter taken from the no-op global stays a no-op after
 * the app registers its SDK. So the instruments are created lazily and again whenever the global meter provider
 * changed since they were made — an SDK installed after this module was imported (or replaced in tests) counts.
 */
export class UploadMetrics {
  private provider: MeterProvider | undefined;
  private current: Instruments | undefined;

  /** An upload transition (fired once per upload), labelled with its provider and transport. */
  transition(kind: UploadTransition, attributes: Attributes): void {
    this.instruments()[kind].add(1, attributes);
  }

  /** A chunk or complete that ended with a ValiBlob error (`code`, `transport`). */
  failure(attributes: Attributes): void {
    this.instruments().failures.add(1, attributes);
  }

  /** Chunk bytes committed. */
  received(bytes: number, attributes: Attributes): void {
    if (bytes > 0) this.instruments().receivedBytes.add(bytes, attributes);
  }

  /** One chunk call started (`+1`) or ended (`-1`). */
  chunkInFlight(delta: 1 | -1, attributes: Attributes): void {
    this.instruments().chunksInFlight.add(delta, attributes);
  }

  /** How long one chunk call took. */
  chunkDuration(seconds: number, attributes: Attributes): void {
    this.instruments().chunkDuration.record(seconds, attributes);
  }

  /** How long one complete took. */
  completeDuration(seconds: number, attributes: Attributes): void {
    this.instruments().completeDuration.record(seconds, attributes);
  }

  /** One wait for the per-upload lock; `conflict` when it ended in `UPLOAD_LOCKED`. */
  lockWait(seconds: number, conflict: boolean, attributes: Attributes): void {
    const instruments = this.instruments();
    instruments.lockWaitDuration.record(seconds, attributes);
    if (conflict) instruments.lockConflicts.add(1, attributes);
  }

  /** One session store call (`store`, `operation`); `failed` when it ended as unavailable. */
  storeCall(seconds: number, failed: boolean, attributes: Attributes): void {
    const instruments = this.instruments();
    instruments.storeDuration.record(seconds, attributes);
    if (failed) instruments.storeErrors.add(1, attributes);
  }

  /** One cleanup run; the backlog gauge only moves when the run swept (a skipped run saw nothing). */
  cleanupRun(outcome: CleanupOutcome, backlog: number | undefined): void {
    const instruments = this.instruments();
    instruments.cleanupRuns.add(1, { outcome });
    if (backlog !== undefined) instruments.cleanupBacklog.record(backlog);
  }

  private instruments(): Instruments {
    const provider = metrics.getMeterProvider();
    if (this.current && provider === this.provider) return this.current;
    this.provider = provider;
    this.current = createInstruments(provider);
    return this.current;
  }
}

/** Histogram bucket bounds (seconds) suggested to the SDK; an app's View still overrides them. */
const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

function createInstruments(provider: MeterProvider): Instruments {
  const meter = provider.getMeter(VALIBLOB_TELEMETRY_SCOPE);
  // The SDK's default buckets (0..10000) suit milliseconds; these are seconds, from a fast store call to a slow chunk.
  const advice = { explicitBucketBoundaries: SECONDS_BUCKETS };
  const seconds = (name: string, description: string) =>
    meter.createHistogram(name, { unit: 's', description, advice });
  return {
    started: meter.createCounter(M.uploadsStarted, { description: 'Upload sessions created' }),
    completed: meter.createCounter(M.uploadsCompleted, { description: 'Uploads published' }),
    aborted: meter.createCounter(M.uploadsAborted, { description: 'Uploads aborted' }),
    expired: meter.createCounter(M.uploadsExpired, { description: 'Unfinished uploads removed after expiry' }),
    rejected: meter.createCounter(M.uploadsRejected, { description: 'Uploads refused by the upload policy' }),
    failures: meter.createCounter(M.uploadFailures, { description: 'Chunk or complete calls that failed, by code' }),
    receivedBytes: meter.createCounter(M.receivedBytes, { unit: 'By', description: 'Chunk bytes committed' }),
    lockConflicts: meter.createCounter(M.lockConflicts, { description: 'Lock waits that ended in 423' }),
    storeErrors: meter.createCounter(M.storeErrors, { description: 'Session store calls that were unavailable' }),
    cleanupRuns: meter.createCounter(M.cleanupRuns, { description: 'Stale-upload cleanup runs by outcome' }),
    chunkDuration: seconds(M.chunkDuration, 'Duration of one chunk call'),
    completeDuration: seconds(M.completeDuration, 'Duration of one complete'),
    lockWaitDuration: seconds(M.lockWaitDuration, 'Wait for the per-upload lock'),
    storeDuration: seconds(M.storeDuration, 'Duration of one session store call'),
    chunksInFlight: meter.createUpDownCounter(M.chunksInFlight, { description: 'Chunk calls in progress' }),
    cleanupBacklog: meter.createGauge(M.cleanupBacklog, {
      description: 'Expired sessions the last cleanup run left for the next',
    }),
  };
}

/** The process-wide instruments (the global meter provider is process-wide too). */
export const uploadMetrics = new UploadMetrics();
