import { StorageUnavailableError, ValiBlobError } from '../../errors/vali-blob.errors';
import { backendCall, BackendErrors } from '../common/backend-call';

/** Shape of the AWS SDK v3 service and network errors this provider looks at. */
interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** HTTP status of an SDK error, when the service answered. */
export function s3Status(error: unknown): number | undefined {
  return (error as SdkError)?.$metadata?.httpStatusCode;
}

/** S3 error code (`NoSuchKey`, `NoSuchUpload`, …) or SDK error name. */
export function s3Code(error: unknown): string | undefined {
  const e = error as SdkError;
  return e?.Code ?? e?.name ?? e?.code;
}

/** Whether the error says "this key does not exist". */
export function isS3NotFound(error: unknown): boolean {
  const code = s3Code(error);
  if (code === 'NoSuchKey' || code === 'NotFound') return true;
  return s3Status(error) === 404 && code !== 'NoSuchBucket' && code !== 'NoSuchUpload';
}

/** Whether the error says "this multipart upload does not exist (any more)". */
export function isNoSuchUpload(error: unknown): boolean {
  return s3Code(error) === 'NoSuchUpload';
}

/** Whether the backend does not implement the operation (s3rver: AbortMultipartUpload, ListParts). */
export function isNotImplemented(error: unknown): boolean {
  const code = s3Code(error);
  const status = s3Status(error);
  return code === 'NotImplemented' || code === 'MethodNotAllowed' || status === 501 || status === 405;
}

/**
 * Turn anything unexpected into `StorageUnavailableError` (HTTP 503) with the SDK error as `cause`; our own typed
 * errors (and errors from the request body such as size limits) pass through unchanged.
 */
export function toStorageError(error: unknown, action: string): Error {
  if (error instanceof ValiBlobError) return error;
  const code = s3Code(error) ?? 'error';
  const status = s3Status(error);
  return new StorageUnavailableError(`S3 ${action} failed (${code}${status ? ` ${status}` : ''})`, { cause: error });
}

/** Whether a conditional write was refused (`If-None-Match: *` and the key exists): 412 PreconditionFailed. */
export function isPreconditionFailed(error: unknown): boolean {
  return s3Code(error) === 'PreconditionFailed' || s3Status(error) === 412;
}

/** How the S3 provider reads SDK errors (see `backendCall`). */
export const S3_ERRORS: BackendErrors = { isNotFound: isS3NotFound, toStorageError };

/** Run one SDK call, mapping "no such key" on `notFoundPath` to `BlobNotFoundError` and the rest to 503. */
export function s3Call<T>(action: string, run: () => Promise<T>, notFoundPath?: string): Promise<T> {
  return backendCall(S3_ERRORS, action, run, notFoundPath);
}
