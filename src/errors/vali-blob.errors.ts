/**
 * Typed errors of the library. Every error carries a stable machine-readable `code` and the HTTP status the
 * REST and tus layers answer with, so no transport has to guess (and bad input never becomes a 500).
 */

/** Stable error codes; part of the public contract (documented in the README). */
export type ValiBlobErrorCode =
  | 'INVALID_OPTIONS'
  | 'ALREADY_REGISTERED'
  | 'NOT_SUPPORTED'
  | 'INVALID_PATH'
  | 'INVALID_REQUEST'
  | 'INVALID_OFFSET'
  | 'INVALID_LENGTH'
  | 'INVALID_METADATA'
  | 'INVALID_RANGE'
  | 'UNSUPPORTED_CONTENT_TYPE'
  | 'UNSUPPORTED_CHECKSUM_ALGORITHM'
  | 'OFFSET_MISMATCH'
  | 'SIZE_EXCEEDED'
  | 'CHECKSUM_MISMATCH'
  | 'UPLOAD_NOT_FOUND'
  | 'UPLOAD_GONE'
  | 'UPLOAD_LOCKED'
  | 'UPLOAD_INTERRUPTED'
  | 'UPLOAD_INCOMPLETE'
  | 'UPLOAD_COMPLETE'
  | 'BLOB_NOT_FOUND'
  | 'BLOB_EXISTS'
  | 'PATH_CONFLICT'
  | 'PARTIAL_CHANGED'
  | 'TOO_MANY_WRITES'
  | 'STORE_UNAVAILABLE'
  | 'STORAGE_UNAVAILABLE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'UNKNOWN_PROVIDER';

/** Base class of every error this library throws on purpose. */
export class ValiBlobError extends Error {
  constructor(
    /** Stable code, safe to branch on in clients. */
    public readonly code: ValiBlobErrorCode,
    message: string,
    /** HTTP status the built-in controllers answer with. */
    public readonly status: number,
    /** Extra fields copied into the JSON error body (never secrets). */
    public readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Module options failed validation; `problems` lists every one of them, not just the first. */
export class InvalidValiBlobOptionsError extends ValiBlobError {
  constructor(public readonly problems: string[]) {
    super('INVALID_OPTIONS', `Invalid ValiBlobModule options:\n - ${problems.join('\n - ')}`, 500, { problems });
  }
}

/** ValiBlobModule was registered more than once in one application. */
export class ValiBlobAlreadyRegisteredError extends ValiBlobError {
  constructor() {
    super(
      'ALREADY_REGISTERED',
      'ValiBlobModule is registered more than once in this application. Call forRoot()/forRootAsync() once ' +
        '(in the root module) and use isGlobal: true or re-export the module instead.',
      500,
    );
  }
}

/** A store or provider cannot do what was asked; documented per implementation. */
export class NotSupportedError extends ValiBlobError {
  constructor(feature: string, by: string) {
    super('NOT_SUPPORTED', `${feature} is not supported by ${by}`, 501, { feature });
  }
}

/** A blob path failed validation or would escape the storage root. */
export class InvalidPathError extends ValiBlobError {
  constructor(path: string, reason: string) {
    super('INVALID_PATH', `Invalid path: ${reason}`, 400, { reason, path: printable(path) });
  }
}

/** Generic malformed input (headers, body, parameters). */
export class InvalidRequestError extends ValiBlobError {
  constructor(
    message: string,
    code: Extract<
      ValiBlobErrorCode,
      'INVALID_REQUEST' | 'INVALID_OFFSET' | 'INVALID_LENGTH' | 'INVALID_METADATA' | 'INVALID_RANGE'
    > = 'INVALID_REQUEST',
    details: Record<string, unknown> = {},
  ) {
    super(code, message, 400, details);
  }
}

/** The request body has a content type the endpoint does not take. */
export class UnsupportedContentTypeError extends ValiBlobError {
  constructor(contentType: string | undefined, expected: string[]) {
    super(
      'UNSUPPORTED_CONTENT_TYPE',
      `Content-Type ${contentType ? printable(contentType) : '(none)'} is not accepted; use ${expected.join(' or ')}`,
      415,
      { expected },
    );
  }
}

/** The checksum algorithm named by the client is not enabled. */
export class UnsupportedChecksumAlgorithmError extends ValiBlobError {
  constructor(algorithm: string, supported: readonly string[]) {
    super(
      'UNSUPPORTED_CHECKSUM_ALGORITHM',
      `Checksum algorithm ${printable(algorithm)} is not supported`,
      400,
      { supported: [...supported] },
    );
  }
}

/** A chunk was sent for an offset other than the upload's current one. Nothing was written. */
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

/** Declared or streamed size is over the upload's total or the configured maximum. */
export class SizeExceededError extends ValiBlobError {
  constructor(message: string, public readonly limit: number) {
    super('SIZE_EXCEEDED', message, 413, { limit });
  }
}

/** The chunk's checksum did not match; the chunk was discarded and the offset did not move. */
export class ChecksumMismatchError extends ValiBlobError {
  constructor(algorithm: string) {
    super('CHECKSUM_MISMATCH', `The ${algorithm} checksum of the chunk does not match; the chunk was discarded`, 460, {
      algorithm,
    });
  }
}

/** No such upload (or it belongs to another owner, which must look the same). */
export class UploadNotFoundError extends ValiBlobError {
  constructor(uploadId: string) {
    super('UPLOAD_NOT_FOUND', `Upload ${printable(uploadId)} not found`, 404);
  }
}

/** The upload expired or was aborted. */
export class UploadGoneError extends ValiBlobError {
  constructor(uploadId: string, reason: 'expired' | 'aborted') {
    super('UPLOAD_GONE', `Upload ${printable(uploadId)} is ${reason}`, 410, { reason });
  }
}

/** Another request holds the upload and did not let go within the wait bound. Retryable. */
export class UploadLockedError extends ValiBlobError {
  constructor(uploadId: string) {
    super('UPLOAD_LOCKED', `Upload ${printable(uploadId)} is being written by another request; retry shortly`, 423);
  }
}

/** The request was stopped because a newer request for the same upload asked for it. What arrived is kept. */
export class UploadInterruptedError extends ValiBlobError {
  constructor(public readonly expectedOffset: number) {
    super('UPLOAD_INTERRUPTED', 'The request was interrupted by a newer request for the same upload', 409, {
      expectedOffset,
    });
  }
}

/** `complete` was called before every byte arrived. */
export class UploadIncompleteError extends ValiBlobError {
  constructor(uploadedBytes: number, totalSize: number | null) {
    super('UPLOAD_INCOMPLETE', `Upload has ${uploadedBytes} of ${totalSize ?? 'an unknown number of'} bytes`, 409, {
      uploadedBytes,
      totalSize,
    });
  }
}

/** The operation is not allowed on a completed upload (e.g. abort). */
export class UploadCompleteError extends ValiBlobError {
  constructor(uploadId: string) {
    super('UPLOAD_COMPLETE', `Upload ${printable(uploadId)} is already complete`, 409);
  }
}

/** Blob read of a path that does not exist. */
export class BlobNotFoundError extends ValiBlobError {
  constructor(path: string) {
    super('BLOB_NOT_FOUND', `Blob ${printable(path)} not found`, 404);
  }
}

/** The target path already holds a blob and overwrite was not asked for. */
export class BlobExistsError extends ValiBlobError {
  constructor(path: string) {
    super('BLOB_EXISTS', `Blob ${printable(path)} already exists`, 409);
  }
}

/**
 * A blob could never be stored at the path on this backend: a parent segment is already a blob, the path names
 * a folder of other blobs, or a segment is too long for the backend. Found at create, never at complete.
 */
export class PathConflictError extends ValiBlobError {
  constructor(path: string, reason: string) {
    super('PATH_CONFLICT', `Path ${printable(path)} cannot be used: ${reason}`, 409, { reason });
  }
}

/** A tus partial upload's blob changed (size or sha256) since the partial completed; its bytes are not used. */
export class PartialChangedError extends ValiBlobError {
  constructor(uploadId: string) {
    super('PARTIAL_CHANGED', `Partial upload ${printable(uploadId)} changed since it was completed`, 409);
  }
}

/**
 * This instance already has its maximum of chunk writes in flight (`maxConcurrentWrites`); the client should
 * retry after `retryAfterSeconds` (sent as `Retry-After`). Keeps slow clients from holding every lock and descriptor.
 */
export class TooManyWritesError extends ValiBlobError {
  constructor(public readonly retryAfterSeconds = 1) {
    super('TOO_MANY_WRITES', 'Too many uploads in progress on this instance; retry later', 503, { retryAfterSeconds });
  }
}

/** The session store cannot be reached or timed out. Never reported as "not found". */
export class StoreUnavailableError extends ValiBlobError {
  constructor(message = 'Session store unavailable', options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', message, 503, {}, options);
  }
}

/** The storage backend cannot be reached. */
export class StorageUnavailableError extends ValiBlobError {
  constructor(message = 'Storage unavailable', options?: { cause?: unknown }) {
    super('STORAGE_UNAVAILABLE', message, 503, {}, options);
  }
}

/** The authorize hook refused the request. */
export class UnauthorizedError extends ValiBlobError {
  constructor(message = 'Unauthorized') {
    super('UNAUTHORIZED', message, 401);
  }
}

/** The authorize hook refused the request for an authenticated caller. */
export class ForbiddenError extends ValiBlobError {
  constructor(message = 'Forbidden') {
    super('FORBIDDEN', message, 403);
  }
}

/** A provider name that was not registered. */
export class UnknownProviderError extends ValiBlobError {
  constructor(name: string) {
    super('UNKNOWN_PROVIDER', `Storage provider "${printable(name)}" is not registered`, 400);
  }
}

/** Echo user input in messages without control characters and with a bounded length. */
function printable(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = String(value).replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
