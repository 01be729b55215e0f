import { InvalidRequestError } from '../../errors/vali-blob.errors';
import { validateBlobPath } from '../blob-path';
import type { PresignOptions } from '../storage-provider';

/** Longest presigned URL (or SAS) lifetime accepted: 7 days, the most S3 allows; Azure is held to the same. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * The checks every `presign` makes before signing: a valid path, a whole-second lifetime in
 * 1..`MAX_PRESIGN_SECONDS`, and a method of `GET` or `PUT` (`INVALID_REQUEST` otherwise).
 */
export function checkPresignRequest(path: string, options: PresignOptions): void {
  validateBlobPath(path);
  const expiresIn = options.expiresInSeconds;
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGN_SECONDS) {
    throw new InvalidRequestError(`expiresInSeconds must be an integer in 1..${MAX_PRESIGN_SECONDS}`);
  }
  if (options.method !== 'GET' && options.method !== 'PUT') {
    throw new InvalidRequestError('presign method must be GET or PUT');
  }
}
