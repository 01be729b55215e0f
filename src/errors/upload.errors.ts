import { printable } from './printable';
import { ValiBlobError } from './vali-blob-error';

/* What an upload's state or its target blob refuses: offsets, sizes, checksums, lifecycle, path conflicts. */

/**
 * A chunk was sent for an offset other than the upload's current one. Nothing was written.
 * @publicApi
 */
export class OffsetMismatchError extends ValiBlobError {
  constructor(
    public readonly expectedOffset: number,
    providedOffset: number,
  ) {
    super('OFFSET_MISMATCH', `Chunk offset ${providedOffset} does not match the upload offset ${expectedOffset}`, 409, {
      expectedOffset,
      providedOffset,
    });
  }
}

/**
 * Declared or streamed size is over the upload's total or the configured maximum.
 * @publicApi
 */
export class SizeExceededError extends ValiBlobError {
  constructor(
    message: string,
    public readonly limit: number,
  ) {
    super('SIZE_EXCEEDED', message, 413, { limit });
  }
}

/**
 * The chunk's checksum did not match; the chunk was discarded and the offset did not move.
 * @publicApi
 */
export class ChecksumMismatchError extends ValiBlobError {
  constructor(algorithm: string) {
    super('CHECKSUM_MISMATCH', `The ${algorithm} checksum of the chunk does not match; the chunk was discarded`, 460, {
      algorithm,
    });
  }
}

/**
 * No such upload (or it belongs to another owner, which must look the same).
 * @publicApi
 */
export class UploadNotFoundError extends ValiBlobError {
  constructor(uploadId: string) {
    super('UPLOAD_NOT_FOUND', `Upload ${printable(uploadId)} not found`, 404);
  }
}

/**
 * The upload expired or was aborted.
 * @publicApi
 */
export class UploadGoneError extends ValiBlobError {
  constructor(uploadId: string, reason: 'expired' | 'aborted' | 'rejected') {
    super('UPLOAD_GONE', `Upload ${printable(uploadId)} is ${reason}`, 410, { reason });
  }
}

/**
 * Another request holds the upload and did not let go within the wait bound. Retryable.
 * @publicApi
 */
export class UploadLockedError extends ValiBlobError {
  constructor(uploadId: string) {
    super('UPLOAD_LOCKED', `Upload ${printable(uploadId)} is being written by another request; retry shortly`, 423);
  }
}

/**
 * The request was stopped because a newer request for the same upload asked for it. What arrived is kept.
 * @publicApi
 */
export class UploadInterruptedError extends ValiBlobError {
  constructor(public readonly expectedOffset: number) {
    super('UPLOAD_INTERRUPTED', 'The request was interrupted by a newer request for the same upload', 409, {
      expectedOffset,
    });
  }
}

/**
 * `complete` was called before every byte arrived.
 * @publicApi
 */
export class UploadIncompleteError extends ValiBlobError {
  constructor(uploadedBytes: number, totalSize: number | null) {
    super('UPLOAD_INCOMPLETE', `Upload has ${uploadedBytes} of ${totalSize ?? 'an unknown number of'} bytes`, 409, {
      uploadedBytes,
      totalSize,
    });
  }
}

/**
 * The operation is not allowed on a completed upload (e.g. abort).
 * @publicApi
 */
export class UploadCompleteError extends ValiBlobError {
  constructor(uploadId: string) {
    super('UPLOAD_COMPLETE', `Upload ${printable(uploadId)} is already complete`, 409);
  }
}

/**
 * Blob read of a path that does not exist.
 * @publicApi
 */
export class BlobNotFoundError extends ValiBlobError {
  constructor(path: string) {
    super('BLOB_NOT_FOUND', `Blob ${printable(path)} not found`, 404);
  }
}

/**
 * The target path already holds a blob and overwrite was not asked for.
 * @publicApi
 */
export class BlobExistsError extends ValiBlobError {
  constructor(path: string) {
    super('BLOB_EXISTS', `Blob ${printable(path)} already exists`, 409);
  }
}

/**
 * A blob could never be stored at the path on this backend: a parent segment is already a blob, the path names
 * a folder of other blobs, or a segment is too long for the backend. Found at create, never at complete.
 * @publicApi
 */
export class PathConflictError extends ValiBlobError {
  constructor(path: string, reason: string) {
    super('PATH_CONFLICT', `Path ${printable(path)} cannot be used: ${reason}`, 409, { reason });
  }
}

/**
 * A tus partial upload's blob changed (size or sha256) since the partial completed; its bytes are not used.
 * @publicApi
 */
export class PartialChangedError extends ValiBlobError {
  constructor(uploadId: string) {
    super('PARTIAL_CHANGED', `Partial upload ${printable(uploadId)} changed since it was completed`, 409);
  }
}

/**
 * The lengths a client gave for an upload disagree: `Upload-Length` against the length a completing request
 * implies, a length other than the one recorded, bytes past the recorded length, or a "this is the end" request
 * that ends short of it (the IETF draft's `inconsistent-upload-length` problem). 400.
 * @publicApi
 */
export class InconsistentLengthError extends ValiBlobError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INCONSISTENT_LENGTH', message, 400, details);
  }
}
