import { InvalidRequestError } from '../errors/vali-blob.errors';
import { parseNonNegativeInteger } from '../http/http-exchange';
import { ADMIN_FILTER_KEYS } from './admin-filter.reader';
import type { AdminPurgeOptions } from './admin-purge.types';
import type { AdminUploadFilter, AdminUploadQuery } from './admin-upload.query';

/** Query parameters of `GET /<admin path>`; anything else is refused (a typo must not silently widen a list). */
const QUERY_KEYS: string[] = [...ADMIN_FILTER_KEYS, 'limit', 'cursor'];
const NUMBER_KEYS = ['olderThanMs', 'createdBefore', 'expiresBefore', 'limit'];
/** Fields of a purge body and of its `filter`; unknown ones are refused (a typo would widen the purge). */
const BODY_KEYS = ['filter', 'mode', 'deleteBlobs', 'dryRun', 'all'];
const FILTER_KEYS: string[] = [...ADMIN_FILTER_KEYS];

/**
 * The list query from a request URL (`?pathPrefix=&status=Pending,InProgress&ownerId=&olderThanMs=&limit=…`).
 * `status` takes a comma list or repeats; numbers are plain decimal integers. Values are checked again, with the
 * same errors, by `UploadAdminService.find`.
 */
export function parseAdminQuery(url: string): AdminUploadQuery {
  const params = new URL(url, 'http://admin.invalid').searchParams;
  const query: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    if (!QUERY_KEYS.includes(key)) {
      throw new InvalidRequestError(`Unknown query parameter ${JSON.stringify(key)}; use ${QUERY_KEYS.join(', ')}`);
    }
    const values = params.getAll(key);
    if (key === 'status') {
      query.status = values.flatMap((value) => value.split(',')).map((value) => value.trim());
      continue;
    }
    if (values.length > 1) throw new InvalidRequestError(`Query parameter ${key} is given twice`);
    query[key] = NUMBER_KEYS.includes(key) ? parseNonNegativeInteger(values[0], key) : values[0];
  }
  return query as AdminUploadQuery;
}

/** A purge request body: `{ filter: {...}, mode, deleteBlobs?, dryRun?, all? }`, its shape checked. */
export function parsePurgeBody(body: unknown): { filter: AdminUploadFilter; options: AdminPurgeOptions } {
  if (!isObject(body)) {
    throw new InvalidRequestError('Send a JSON object: { "filter": { ... }, "mode": "abort" | "delete", ... }');
  }
  refuseUnknown(body, BODY_KEYS, 'purge body');
  const filter = body.filter ?? {};
  if (!isObject(filter)) throw new InvalidRequestError('filter must be an object');
  refuseUnknown(filter, FILTER_KEYS, 'filter');
  const { mode, deleteBlobs, dryRun, all } = body as Record<string, unknown>;
  return { filter: filter as AdminUploadFilter, options: { mode, deleteBlobs, dryRun, all } as AdminPurgeOptions };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function refuseUnknown(value: Record<string, unknown>, known: string[], what: string): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new InvalidRequestError(`Unknown ${what} field ${JSON.stringify(unknown[0])}; use ${known.join(', ')}`);
  }
}
