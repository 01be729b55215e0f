import { timingSafeEqual } from 'node:crypto';

/**
 * The `Authorization` header value a token is expected as (`Bearer <token>`), as bytes for `sameBearer`. Built once
 * per configured token, not per request.
 */
export function expectedBearer(token: string): Buffer {
  return Buffer.from(`Bearer ${token}`);
}

/** The request's `Authorization` header as bytes (empty when absent). */
export function givenBearer(request: unknown): Buffer {
  return Buffer.from((request as { headers: Record<string, string | undefined> }).headers.authorization ?? '');
}

/** Constant-time comparison of a given header with an expected one: the answer time does not reveal a prefix. */
export function sameBearer(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
