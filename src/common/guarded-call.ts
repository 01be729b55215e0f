import type { LoggerService } from '@nestjs/common';
import { ValiBlobError } from '../errors/vali-blob.errors';
import { uploadLog, UploadLogSubject } from './upload-log';
import { withTimeout } from './with-timeout';

/** What went wrong in a guarded call, for `GuardedCallOptions.unavailable`. */
export interface GuardedFailure {
  /** `<what> timed out after N ms` or `<what> failed: <backend message>` (may name hosts: keep it out of answers). */
  message: string;
  /** True when the deadline passed; the call itself may still settle later (its result is ignored). */
  timedOut: boolean;
  /** What the call rejected with (absent on a timeout). */
  cause?: unknown;
}

/** How one guarded call is limited and how its unexpected failures are reported. */
export interface GuardedCallOptions {
  /** What is being called, for messages and logs (`'session store get'`, `'Redis EVALSHA'`). */
  what: string;
  /** Deadline in milliseconds; omit for no time limit (the call's own timeouts apply). */
  timeoutMs?: number;
  /**
   * The typed error an unexpected failure or a timeout becomes (a 503 such as `StoreUnavailableError`), so an
   * outage is never mistaken for "not found" or reported as a 500.
   */
  unavailable: (failure: GuardedFailure) => Error;
  /** Errors of these types pass through unchanged besides every `ValiBlobError` (e.g. a store's duplicate-id error). */
  passThrough?: ReadonlyArray<abstract new (...args: never[]) => Error>;
  /** Where unexpected failures are logged with their stack; omit to leave logging to the caller. */
  logger?: Pick<LoggerService, 'error'>;
  /** The upload the call is for: its id and owner go into that log line (fields in JSON logs). */
  upload?: UploadLogSubject;
}

/**
 * The one shape for "call a backend with a time limit and map its errors": our own typed errors pass through (a
 * malformed cursor stays a 400), anything else — a refused connection, a dropped socket, a closing pool, the
 * deadline — becomes `options.unavailable(...)`. Used by the engine, the stores, the cleanup job and health probes.
 */
export async function guardedCall<T>(call: () => Promise<T>, options: GuardedCallOptions): Promise<T> {
  const { what, timeoutMs, unavailable } = options;
  // The deadline's own error is already the answer: never mapped (or logged as a failure) a second time.
  let deadline: Error | undefined;
  try {
    const pending = call();
    if (timeoutMs === undefined) return await pending;
    return await withTimeout(pending, timeoutMs, () => {
      deadline = unavailable({ message: `${what} timed out after ${timeoutMs} ms`, timedOut: true });
      return deadline;
    });
  } catch (error) {
    if ((deadline !== undefined && error === deadline) || error instanceof ValiBlobError) throw error;
    if (options.passThrough?.some((type) => error instanceof type)) throw error;
    if (options.upload) options.logger?.error(uploadLog(`${what} failed`, options.upload, error));
    else options.logger?.error(`${what} failed: ${(error as Error)?.stack ?? error}`);
    throw unavailable({
      message: `${what} failed: ${(error as Error)?.message ?? error}`,
      timedOut: false,
      cause: error,
    });
  }
}
