import { decodeOpaqueCursor, encodeOpaqueCursor } from '../common/opaque-cursor';
import { InvalidRequestError } from '../errors/vali-blob.errors';
import { SessionFilter, TERMINAL_STATUSES, UploadSession } from './upload-session.model';

/** Default and maximum page sizes for `find`. */
export const DEFAULT_FIND_LIMIT = 100;
export const MAX_FIND_LIMIT = 1000;

/** True when the session satisfies every field of the filter (used by stores that filter in process). */
export function matchesSessionFilter(session: UploadSession, filter: SessionFilter): boolean {
  if (filter.pathPrefix !== undefined && !session.path.startsWith(filter.pathPrefix)) return false;
  if (filter.status !== undefined) {
    const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
    if (!statuses.includes(session.status)) return false;
  }
  if (filter.ownerId !== undefined && session.ownerId !== filter.ownerId) return false;
  if (filter.expiresBefore !== undefined && session.expiresAt > filter.expiresBefore) return false;
  if (filter.createdBefore !== undefined && session.createdAt > filter.createdBefore) return false;
  return true;
}

/**
 * What `deleteExpired(now)` removes: a tombstone (terminal status) past its retention with no `providerState`
 * left, so nothing on the provider depends on the record. Stores that filter in process use this; SQL states the
 * same three conditions in its DELETE.
 */
export function isExpiredTombstone(session: UploadSession, now: number): boolean {
  return session.expiresAt <= now && TERMINAL_STATUSES.includes(session.status) && session.providerState === null;
}

/** Page size clamped to 1..MAX_FIND_LIMIT. */
export function findLimit(filter: SessionFilter): number {
  const limit = filter.limit ?? DEFAULT_FIND_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidRequestError('find limit must be a positive integer');
  return Math.min(limit, MAX_FIND_LIMIT);
}

/** Cursor of a `find` page: the last returned uploadId, opaque to callers. */
export function encodeCursor(lastUploadId: string): string {
  return encodeOpaqueCursor(lastUploadId);
}

/** Inverse of `encodeCursor`; `undefined` for the first page. */
export function decodeCursor(cursor: string | undefined): string | undefined {
  return decodeOpaqueCursor(cursor);
}
