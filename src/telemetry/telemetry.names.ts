/**
 * Names of everything ValiBlob reports through OpenTelemetry: the instrumentation scope, the metric instruments,
 * the span names and the attribute keys. Stable: dashboards and alerts are built on them.
 */

/**
 * Meter and tracer name (the instrumentation scope).
 * @publicApi
 */
export const VALIBLOB_TELEMETRY_SCOPE = '@vali-blob/nestjs';

/**
 * Metric instrument names. The Prometheus exporter shows them with `_` for `.`, counters with `_total`
 * (`valiblob_uploads_started_total`; histograms as `valiblob_chunk_duration_count|_sum|_bucket`, no unit suffix;
 * see docs/operations.md).
 * @publicApi
 */
export const VALIBLOB_METRICS = {
  /** Counter: sessions created. */
  uploadsStarted: 'valiblob.uploads.started',
  /** Counter: uploads published (`upload.completed`). */
  uploadsCompleted: 'valiblob.uploads.completed',
  /** Counter: uploads aborted (tus DELETE, REST DELETE, `abort()`). */
  uploadsAborted: 'valiblob.uploads.aborted',
  /** Counter: unfinished uploads removed by cleanup after their expiry. */
  uploadsExpired: 'valiblob.uploads.expired',
  /** Counter: uploads the upload policy refused after they existed (`upload.rejected`). */
  uploadsRejected: 'valiblob.uploads.rejected',
  /** Counter: chunk or complete calls that ended with a ValiBlob error, by `code`. */
  uploadFailures: 'valiblob.upload.failures',
  /** Counter (bytes): chunk bytes stored and committed (the offset moved past them). */
  receivedBytes: 'valiblob.upload.received_bytes',
  /** Counter: lock waits that ended in `UPLOAD_LOCKED` (423). */
  lockConflicts: 'valiblob.lock.conflicts',
  /** Counter: session store calls that failed as unavailable (503), by `store` and `operation`. */
  storeErrors: 'valiblob.store.errors',
  /** Counter: cleanup runs by `outcome` (`swept`, `skipped`, `failed`). */
  cleanupRuns: 'valiblob.cleanup.runs',
  /** Histogram (seconds): one chunk call, from the call to its answer (lock wait and body read included). */
  chunkDuration: 'valiblob.chunk.duration',
  /** Histogram (seconds): one complete (explicit call, or the publish step of an auto-completing chunk). */
  completeDuration: 'valiblob.complete.duration',
  /** Histogram (seconds): waiting for the per-upload lock. */
  lockWaitDuration: 'valiblob.lock.wait.duration',
  /** Histogram (seconds): one session store call, by `store` and `operation`. */
  storeDuration: 'valiblob.store.duration',
  /** Up-down counter: chunk calls in progress. */
  chunksInFlight: 'valiblob.chunks.in_flight',
  /** Gauge: expired sessions the last cleanup run left for the next one (locked by a writer, or failed). */
  cleanupBacklog: 'valiblob.cleanup.backlog',
} as const;

/**
 * Span names (store and provider spans append the operation: `valiblob.store get`).
 * @publicApi
 */
export const VALIBLOB_SPANS = {
  start: 'valiblob.upload.start',
  chunk: 'valiblob.upload.chunk',
  complete: 'valiblob.upload.complete',
  abort: 'valiblob.upload.abort',
  store: 'valiblob.store',
  provider: 'valiblob.provider',
} as const;

/**
 * Attribute keys. Metric attributes are low-cardinality only (never ids, paths or owners); `uploadId` and the
 * byte counts are span attributes.
 */
export const VALIBLOB_ATTRIBUTES = {
  provider: 'provider',
  transport: 'transport',
  store: 'store',
  code: 'code',
  operation: 'operation',
  outcome: 'outcome',
  uploadId: 'valiblob.upload.id',
  offset: 'valiblob.chunk.offset',
  bytes: 'valiblob.chunk.bytes',
} as const;

/** How a call reached the engine, as metrics label it: `api` for in-process calls. */
export type TelemetryTransport = 'tus' | 'rufh' | 'rest' | 'api';
