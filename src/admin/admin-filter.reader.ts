import { InvalidRequestError } from '../errors/vali-blob.errors';
import { MAX_FIND_LIMIT } from '../sessions/session-filter';
import { SessionFilter, UploadStatus } from '../sessions/upload-session.model';
import type { AdminUploadFilter, AdminUploadQuery } from './admin-upload.query';

const STATUSES = Object.values(UploadStatus) as string[];

/** The filter fields, in the order they are read (also what decides whether a filter is empty). */
export const ADMIN_FILTER_KEYS = [
  'pathPrefix',
  'status',
  'ownerId',
  'olderThanMs',
  'createdBefore',
  'expiresBefore',
] as const;

/**
 * The store filter of an admin filter, checked field by field (`InvalidRequestError`, 400, on a bad value — the
 * admin routes pass what clients sent straight here). `now` turns `olderThanMs` into `createdBefore`.
 */
export function toSessionFilter(filter: AdminUploadFilter, now: number): SessionFilter {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new InvalidRequestError('filter must be an object');
  }
  const out: SessionFilter = {};
  if (filter.pathPrefix !== undefined) out.pathPrefix = nonEmptyString(filter.pathPrefix, 'pathPrefix');
  if (filter.ownerId !== undefined) out.ownerId = nonEmptyString(filter.ownerId, 'ownerId');
  if (filter.status !== undefined) out.status = statuses(filter.status);
  const before: number[] = [];
  if (filter.olderThanMs !== undefined) before.push(now - instant(filter.olderThanMs, 'olderThanMs'));
  if (filter.createdBefore !== undefined) before.push(instant(filter.createdBefore, 'createdBefore'));
  if (before.length > 0) out.createdBefore = Math.min(...before);
  if (filter.expiresBefore !== undefined) out.expiresBefore = instant(filter.expiresBefore, 'expiresBefore');
  return out;
}

/** The page fields of a query, checked. */
export function toPageFilter(query: AdminUploadQuery): Pick<SessionFilter, 'limit' | 'cursor'> {
  const page: Pick<SessionFilter, 'limit' | 'cursor'> = {};
  if (query.limit !== undefined) {
    if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > MAX_FIND_LIMIT) {
      throw new InvalidRequestError(`limit must be an integer from 1 to ${MAX_FIND_LIMIT}`);
    }
    page.limit = query.limit;
  }
  if (query.cursor !== undefined) page.cursor = nonEmptyString(query.cursor, 'cursor');
  return page;
}

/** Whether a filter names no field at all (it would match every session). */
export function isEmptyFilter(filter: AdminUploadFilter): boolean {
  return ADMIN_FILTER_KEYS.every((key) => filter[key] === undefined);
}

/** Only the filter fields of `value` (a query or a purge body may carry more). */
export function pickFilter(value: AdminUploadFilter): AdminUploadFilter {
  const picked: Record<string, unknown> = {};
  for (const key of ADMIN_FILTER_KEYS) if (value[key] !== undefined) picked[key] = value[key];
  return picked as AdminUploadFilter;
}

function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new InvalidRequestError(`${name} must be a non-empty string`);
  return value;
}

function statuses(value: unknown): UploadStatus | UploadStatus[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((s) => typeof s === 'string' && STATUSES.includes(s))) {
    throw new InvalidRequestError(`status must be one or more of ${STATUSES.join(', ')}`);
  }
  return Array.isArray(value) ? (list as UploadStatus[]) : (value as UploadStatus);
}

/** A duration or an instant in ms: a non-negative safe integer. */
function instant(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRequestError(`${name} must be a non-negative integer (milliseconds)`);
  }
  return value;
}
