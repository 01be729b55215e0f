import { ValiBlobError } from '../errors/vali-blob.errors';

/** What a failed check reports: fixed wording and a code, never a driver message (those can carry secrets). */
export interface HealthFailure {
  /** `timeout`: no answer in time; `unreachable`: connection-level failure; `error`: anything else. */
  reason: 'timeout' | 'unreachable' | 'error';
  /** A stable code when one is known (`ECONNREFUSED`, `STORE_UNAVAILABLE`, a PostgreSQL SQLSTATE…). */
  code?: string;
  /** Human-readable, built from the fields above only. */
  message: string;
}

/** Thrown internally when a probe exceeds its time budget. */
export class HealthTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'HealthTimeoutError';
  }
}

const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  EPIPE: 'connection closed',
};

/**
 * Turn any failure into a `HealthFailure` that is safe to show on a public `/health`: driver messages and
 * stacks are dropped (a pg or ioredis error can quote the connection string, user name or host), only
 * recognised codes from the error and its `cause` chain are kept.
 */
export function toHealthFailure(error: unknown): HealthFailure {
  if (error instanceof HealthTimeoutError) return { reason: 'timeout', message: error.message };
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) codes.push(code);
    // AggregateError (happy-eyeballs connects) carries the real errno in `errors`.
    const nested = (current as { errors?: unknown[] }).errors;
    if (Array.isArray(nested) && nested[0] && typeof nested[0] === 'object') {
      const inner = (nested[0] as { code?: unknown }).code;
      if (typeof inner === 'string' && /^[A-Z0-9_]{2,40}$/.test(inner)) codes.push(inner);
    }
    current = (current as { cause?: unknown }).cause;
  }
  const connection = codes.find((code) => code in CONNECTION_CODES);
  if (connection) return { reason: 'unreachable', code: connection, message: CONNECTION_CODES[connection] };
  const code = error instanceof ValiBlobError ? error.code : codes[0];
  return code
    ? { reason: 'error', code, message: `check failed (${code})` }
    : { reason: 'error', message: 'check failed' };
}
