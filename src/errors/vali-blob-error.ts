/**
 * The base of the library's typed errors. Every error carries a stable machine-readable `code` and the HTTP status
 * the REST and tus layers answer with, so no transport has to guess (and bad input never becomes a 500).
 * The errors themselves live by family next to this file; `vali-blob.errors.ts` re-exports them all.
 */

/**
 * Stable error codes; part of the public contract (documented in the README).
 * @publicApi
 */
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
  | 'INCONSISTENT_LENGTH'
  | 'UNSUPPORTED_INTEROP_VERSION'
  | 'BLOB_NOT_FOUND'
  | 'BLOB_EXISTS'
  | 'PATH_CONFLICT'
  | 'PARTIAL_CHANGED'
  | 'TOO_MANY_WRITES'
  | 'STORE_UNAVAILABLE'
  | 'STORAGE_UNAVAILABLE'
  | 'SESSION_EXISTS'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'UNKNOWN_PROVIDER'
  | 'UPLOAD_REJECTED'
  | 'TYPE_NOT_ALLOWED'
  | 'TYPE_MISMATCH'
  | 'EXTENSION_NOT_ALLOWED'
  | 'QUOTA_EXCEEDED'
  | 'VIRUS_FOUND'
  | 'SCANNER_UNAVAILABLE'
  | 'POLICY_TIMEOUT'
  | 'POLICY_FAILED';

/**
 * Base class of every error this library throws on purpose.
 * @publicApi
 */
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
