import { StorageUnavailableError, ValiBlobError } from '../../errors/vali-blob.errors';
import { backendCall, BackendErrors } from '../common/backend-call';

/** HTTP status of an `@azure/storage-blob` error (`RestError`), when the service answered. */
export function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}

/**
 * Turn anything unexpected into `StorageUnavailableError` (HTTP 503) with the SDK error as `cause`; our own typed
 * errors pass through unchanged.
 */
export function toStorageError(error: unknown, action: string): Error {
  if (error instanceof ValiBlobError) return error;
  const e = error as { code?: string; statusCode?: number };
  const detail = `${e?.code ?? 'error'}${e?.statusCode ? ` ${e.statusCode}` : ''}`;
  return new StorageUnavailableError(`Azure ${action} failed (${detail})`, { cause: error });
}

/** A write refused because a blob exists (`If-None-Match: *`): 409 BlobAlreadyExists, or 412 on some versions. */
export function isExistsConflict(error: unknown): boolean {
  const status = statusOf(error);
  return status === 409 || status === 412;
}

/** How the Azure provider reads SDK errors (see `backendCall`): a 404 is "not found". */
export const AZURE_ERRORS: BackendErrors = { isNotFound: (error) => statusOf(error) === 404, toStorageError };

/** Run one SDK call, mapping 404 on `notFoundPath` to `BlobNotFoundError` and the rest to 503. */
export function azureCall<T>(action: string, run: () => Promise<T>, notFoundPath?: string): Promise<T> {
  return backendCall(AZURE_ERRORS, action, run, notFoundPath);
}
