import { withTimeout } from '../../common/with-timeout';
import { StoreUnavailableError, ValiBlobError } from '../../errors/vali-blob.errors';

/** Thrown by `save` when the id exists already (ids are 128-bit random, so this means a caller bug, not an outage). */
export class SessionAlreadyExistsError extends Error {
  constructor(uploadId: string) {
    super(`Session ${uploadId} already exists`);
    this.name = 'SessionAlreadyExistsError';
  }
}

/**
 * Run one database call with a time limit. Our own typed errors pass through (a malformed cursor stays a 400);
 * anything else — a refused connection, a dropped socket, a pool that is closing, a timeout — becomes
 * `StoreUnavailableError` (503), so an outage is never mistaken for "not found".
 */
export async function guardStoreCall<T>(what: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  try {
    return await withTimeout(call(), timeoutMs, () => new StoreUnavailableError(`Session store timed out after ${timeoutMs} ms (${what})`));
  } catch (error) {
    if (error instanceof ValiBlobError || error instanceof SessionAlreadyExistsError) throw error;
    throw new StoreUnavailableError(`Session store unavailable (${what}): ${(error as Error)?.message ?? error}`, { cause: error });
  }
}

/**
 * True for a primary-key / unique violation on PostgreSQL (23505) or SQLite: `sqlite3` reports the primary code
 * `SQLITE_CONSTRAINT` (the kind only in the message), `better-sqlite3` the extended `SQLITE_CONSTRAINT_PRIMARYKEY` /
 * `SQLITE_CONSTRAINT_UNIQUE`.
 */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string; errno?: number; message?: string } };
  const code = e?.driverError?.code ?? e?.code;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') return true;
  return code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/i.test(e?.driverError?.message ?? '');
}
