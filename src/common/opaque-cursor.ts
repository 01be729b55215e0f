import { InvalidRequestError } from '../errors/vali-blob.errors';

/**
 * Opaque paging cursors: the last key of a page (upload id, blob path), base64url-encoded so callers treat it as
 * a token. Keyset paging on a unique, ordered key stays stable while items are added or removed.
 */
export function encodeOpaqueCursor(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url');
}

/** Inverse of `encodeOpaqueCursor`; `undefined` for the first page; `INVALID_REQUEST` for a malformed cursor. */
export function decodeOpaqueCursor(cursor: string | undefined, what = 'cursor'): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidRequestError(`Malformed ${what}`);
  return Buffer.from(cursor, 'base64url').toString('utf8');
}
