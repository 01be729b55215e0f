import { guardedCall, GuardedFailure } from '../common/guarded-call';
import { StoreUnavailableError } from '../errors/vali-blob.errors';

/**
 * `guardedCall` for the backends of session stores and their locks (a database, Redis): our own typed errors pass
 * through (a malformed cursor stays a 400, a duplicate id stays `SessionAlreadyExistsError`); anything else — a
 * refused connection, a dropped socket, a pool that is closing, the deadline — becomes `StoreUnavailableError`
 * (503), so an outage is never mistaken for "not found". `what` names the call in the message
 * (`'session store get'`, `'Redis EVALSHA'`).
 */
export function storeCall<T>(what: string, timeoutMs: number | undefined, call: () => Promise<T>): Promise<T> {
  return guardedCall(call, { what, timeoutMs, unavailable: storeUnavailable });
}

/** The error a store outage becomes; a timeout has no cause to carry. */
export function storeUnavailable({ message, timedOut, cause }: GuardedFailure): StoreUnavailableError {
  return new StoreUnavailableError(message, timedOut ? undefined : { cause });
}
