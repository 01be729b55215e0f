import type { Attributes } from '@opentelemetry/api';
import { StoreUnavailableError, UploadLockedError, ValiBlobError } from '../errors/vali-blob.errors';
import { transportOf } from '../policy/policy-metadata';
import type { UploadTransport } from '../policy/upload-policy.interfaces';
import type { UploadSession } from '../sessions/upload-session.model';
import { storeKind, telemetryTransport } from './telemetry.attributes';
import { VALIBLOB_ATTRIBUTES as A, VALIBLOB_SPANS } from './telemetry.names';
import { uploadMetrics, UploadTransition } from './upload.metrics';
import { withSpan } from './upload.tracing';

/** Seconds since `start` (a `performance.now()` reading). */
function since(start: number): number {
  return (performance.now() - start) / 1000;
}

/** The operations that wait for the per-upload lock. */
/** `status`: a settled status read (IETF draft offset retrieval), which ends an in-flight write first. */
export type LockingOperation = 'chunk' | 'complete' | 'abort' | 'status';

/** What the engine's chunk, complete and abort spans are about. */
export interface UploadCall {
  uploadId: string;
  transport?: UploadTransport;
}

/**
 * The engine's metrics and spans in one place, so the engine code reads as one line per choke point: the upload
 * operations (start, chunk, complete, abort), every store and provider call, the lock wait and the transitions.
 * Only `@opentelemetry/api`: without an SDK in the app everything here is a no-op.
 */
export class EngineTelemetry {
  /** `memory` / `typeorm` / `redis` / `custom`, for the `store` attribute. */
  readonly store: string;

  constructor(store: object) {
    this.store = storeKind(store);
  }

  /** A session store call: span `valiblob.store <operation>`, duration and unavailable errors by store/operation. */
  storeCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const attributes = { [A.store]: this.store, [A.operation]: operation };
    return withSpan(`${VALIBLOB_SPANS.store} ${operation}`, attributes, async () => {
      const started = performance.now();
      let failed = false;
      try {
        return await call();
      } catch (error) {
        failed = error instanceof StoreUnavailableError;
        throw error;
      } finally {
        uploadMetrics.storeCall(since(started), failed, attributes);
      }
    });
  }

  /** A storage provider call: span `valiblob.provider <operation>`. */
  providerCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return withSpan(`${VALIBLOB_SPANS.provider} ${operation}`, { [A.operation]: operation }, call);
  }

  /**
   * A wait for the per-upload lock: its duration, and a conflict when it ended in 423. With `missIsNull`, a `null`
   * result (a try that found the lock busy; the caller then waits) records nothing, so each operation that
   * reached the lock counts once.
   */
  async lockWait<T>(operation: LockingOperation, wait: () => Promise<T>, missIsNull = false): Promise<T> {
    const started = performance.now();
    let conflict = false;
    let missed = false;
    try {
      const result = await wait();
      missed = missIsNull && result === null;
      return result;
    } catch (error) {
      conflict = error instanceof UploadLockedError;
      throw error;
    } finally {
      if (!missed) uploadMetrics.lockWait(since(started), conflict, { [A.operation]: operation });
    }
  }

  /** `start`: span `valiblob.upload.start`, with the new upload's id once it exists. */
  start<T extends { uploadId: string }>(transport: UploadTransport, run: () => Promise<T>): Promise<T> {
    const attributes = { [A.transport]: telemetryTransport(transport) };
    return withSpan(VALIBLOB_SPANS.start, attributes, async (span) => {
      const view = await run();
      span.setAttribute(A.uploadId, view.uploadId);
      return view;
    });
  }

  /** One chunk call: span, in-flight count, duration, and the failure code when it ends with our error. */
  chunk<T extends { bytesWritten: number }>(call: UploadCall & { offset: number }, run: () => Promise<T>): Promise<T> {
    const transport = { [A.transport]: telemetryTransport(call.transport) };
    const attributes = { ...transport, [A.uploadId]: call.uploadId, [A.offset]: call.offset };
    return withSpan(VALIBLOB_SPANS.chunk, attributes, async (span) => {
      const started = performance.now();
      uploadMetrics.chunkInFlight(1, transport);
      try {
        const result = await run();
        span.setAttribute(A.bytes, result.bytesWritten);
        return result;
      } catch (error) {
        this.failed(error, transport);
        throw error;
      } finally {
        uploadMetrics.chunkInFlight(-1, transport);
        uploadMetrics.chunkDuration(since(started), transport);
      }
    });
  }

  /**
   * One complete: span and duration; failures are counted unless `nested` (the publish step of an auto-completing
   * chunk, whose chunk call counts its own failure).
   */
  complete<T>(call: UploadCall, run: () => Promise<T>, nested = false): Promise<T> {
    const transport = { [A.transport]: telemetryTransport(call.transport) };
    return withSpan(VALIBLOB_SPANS.complete, { ...transport, [A.uploadId]: call.uploadId }, async () => {
      const started = performance.now();
      try {
        return await run();
      } catch (error) {
        if (!nested) this.failed(error, transport);
        throw error;
      } finally {
        uploadMetrics.completeDuration(since(started), transport);
      }
    });
  }

  /** `abort`: span `valiblob.upload.abort`. */
  abort<T>(call: UploadCall, run: () => Promise<T>): Promise<T> {
    const attributes = { [A.transport]: telemetryTransport(call.transport), [A.uploadId]: call.uploadId };
    return withSpan(VALIBLOB_SPANS.abort, attributes, run);
  }

  /** An upload transition, labelled with the provider and the transport that created the upload. */
  transition(kind: UploadTransition, session: Pick<UploadSession, 'provider' | 'metadata'>): void {
    uploadMetrics.transition(kind, transitionAttributes(session));
  }

  /** Chunk bytes committed (the offset moved past them). */
  received(bytes: number, session: Pick<UploadSession, 'provider'>, transport: UploadTransport | undefined): void {
    uploadMetrics.received(bytes, { [A.provider]: session.provider, [A.transport]: telemetryTransport(transport) });
  }

  private failed(error: unknown, transport: Attributes): void {
    if (error instanceof ValiBlobError) uploadMetrics.failure({ ...transport, [A.code]: error.code });
  }
}

/** `provider` and the creating `transport` of a session (the marker tus and REST leave in its metadata). */
export function transitionAttributes(session: Pick<UploadSession, 'provider' | 'metadata'>): Attributes {
  return { [A.provider]: session.provider, [A.transport]: telemetryTransport(transportOf(session)) };
}
