import { ValiBlobError } from '../errors/vali-blob.errors';

/**
 * `purge` with an empty filter (it would match every session) and without `all: true`. Answered 400
 * `INVALID_REQUEST` over HTTP, with `reason: 'EMPTY_FILTER'`.
 * @publicApi
 */
export class EmptyPurgeFilterError extends ValiBlobError {
  constructor() {
    super(
      'INVALID_REQUEST',
      'Refusing to purge with an empty filter (it matches every upload); give a filter, or all: true',
      400,
      { reason: 'EMPTY_FILTER' },
    );
  }
}
