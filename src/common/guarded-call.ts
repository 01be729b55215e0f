import type { LoggerService } from '@nestjs/common';
import { ValiBlobError } from '../errors/vali-blob.errors';
import { withTimeout } from './with-timeout';

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
  unavailable: (message: string, cause?: unknown) => Error;
  /** Errors of these types pass through unchanged besides every `ValiBlobError` (e.g. a store's duplicate-id error). */
  passThrough?: ReadonlyArray<abstract new (...args: never[]) => Error>;
  /** Where unexpected failures are logged with their stack; omit to leave logging to the caller. */
  logger?: Pick<LoggerService, 'error'>;
}

/**
 * The one shape for "call a backend with a time limit and map its errors": our own typed errors pass through (a
 * malformed cursor stays a 400), anything else — a refused connection, a dropped socket, a closing pool, the
 * deadline — becomes `options.unavailable(...)`. Used by the engine, the stores, the cleanup job and health probes.
 */
export async function guardedCall<T>(call: () => Promise<T>, options: GuardedCallOptions): Promise<T> {
  const { what, timeoutMs, unavailable } = options;
  try {
    const pending = call();
    if (timeoutMs === undefined) return await pending;
    return await withTimeout(pending, timeoutMs, () => unavailable(`${what} timed out after ${timeoutMs} ms`));
  } catch (error) {
    if (error instanceof ValiBlobError) throw error;
    if (options.passThrough?.some((type) => error instanceof type)) throw error;
    options.logger?.error(`${what} failed: ${(error as Error)?.stack ?? error}`);
    throw unavailable(`${what} failed: ${(error as Error)?.message ?? error}`, error);
  }
}
