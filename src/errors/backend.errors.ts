import { printable } from './printable';
import { ValiBlobError } from './vali-blob-error';

/*
 * Backend errors: a session store or storage provider that cannot answer (503, never "not found"), an instance
 * shedding load, and a store refusing a duplicate id.
 */

/**
 * This instance already has its maximum of chunk writes in flight (`maxConcurrentWrites`); the client should
 * retry after `retryAfterSeconds` (sent as `Retry-After`). Keeps slow clients from holding every lock and descriptor.
 * @publicApi
 */
export class TooManyWritesError extends ValiBlobError {
  constructor(public readonly retryAfterSeconds = 1) {
    super('TOO_MANY_WRITES', 'Too many uploads in progress on this instance; retry later', 503, { retryAfterSeconds });
  }
}

/**
 * The session store cannot be reached or timed out. Never reported as "not found".
 * @publicApi
 */
export class StoreUnavailableError extends ValiBlobError {
  constructor(message = 'Session store unavailable', options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', message, 503, {}, options);
  }
}

/**
 * The storage backend cannot be reached.
 * @publicApi
 */
export class StorageUnavailableError extends ValiBlobError {
  constructor(message = 'Storage unavailable', options?: { cause?: unknown }) {
    super('STORAGE_UNAVAILABLE', message, 503, {}, options);
  }
}

/**
 * A session store's `save` was given an id it already holds. Every store throws this same error (memory, Redis,
 * TypeORM, and custom stores should too). Ids are 128-bit random, so this means a caller bug, not an outage:
 * it is a 409, never the 503 of `StoreUnavailableError`.
 * @publicApi
 */
export class SessionAlreadyExistsError extends ValiBlobError {
  constructor(uploadId: string) {
    super('SESSION_EXISTS', `Session ${printable(uploadId)} already exists`, 409);
  }
}
