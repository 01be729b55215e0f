import {
  InvalidRequestError,
  OffsetMismatchError,
  SizeExceededError,
  UploadGoneError,
} from '../errors/vali-blob.errors';
import { UploadRejectedError } from '../errors/policy.errors';
import { rejectionOf } from '../policy/policy-metadata';
import { ACTIVE_STATUSES, UploadSession, UploadStatus } from '../sessions/upload-session.model';
import type { ChunkResult, UploadChunkInput } from './resumable-upload.types';
import { toSessionView } from './upload-session.view';

/** Largest serialized metadata accepted per upload. */
export const MAX_METADATA_BYTES = 16 * 1024;

/** Validate a declared total size (`null` = deferred) against the configured maximum. */
export function validateTotalSize(totalSize: number | null | undefined, maxUploadSize: number): number | null {
  if (totalSize === null) return null;
  if (typeof totalSize !== 'number' || !Number.isSafeInteger(totalSize) || totalSize < 0) {
    throw new InvalidRequestError('totalSize must be a non-negative integer', 'INVALID_LENGTH');
  }
  if (totalSize > maxUploadSize) {
    throw new SizeExceededError(`Upload size exceeds the maximum of ${maxUploadSize} bytes`, maxUploadSize);
  }
  return totalSize;
}

/** Validate client metadata: an object of string values, bounded in key length and total size. */
export function validateMetadata(metadata: unknown): Record<string, string> {
  if (metadata === undefined || metadata === null) return {};
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new InvalidRequestError('metadata must be an object of strings', 'INVALID_METADATA');
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata as Record<string, unknown>)) {
    if (key === '' || key.length > 128) {
      throw new InvalidRequestError('metadata keys must have 1..128 characters', 'INVALID_METADATA');
    }
    if (typeof value !== 'string') {
      throw new InvalidRequestError(`metadata value of "${key.slice(0, 64)}" must be a string`, 'INVALID_METADATA');
    }
    out[key] = value;
  }
  if (Buffer.byteLength(JSON.stringify(out)) > MAX_METADATA_BYTES) {
    throw new InvalidRequestError(`metadata is larger than ${MAX_METADATA_BYTES} bytes`, 'INVALID_METADATA');
  }
  return out;
}

/** Validate the position a chunk claims: a non-negative integer offset and, when declared, length. */
export function validateChunkPosition(offset: number, contentLength: number | null | undefined): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidRequestError('Offset must be a non-negative integer', 'INVALID_OFFSET');
  }
  if (contentLength != null && (!Number.isSafeInteger(contentLength) || contentLength < 0)) {
    throw new InvalidRequestError('Content-Length must be a non-negative integer', 'INVALID_LENGTH');
  }
}

/**
 * Whether a chunk may be written to this session now: returns a result for requests that need no write, throws
 * for invalid states (gone, finished, wrong offset), `null` to proceed.
 */
export function checkWritable(session: UploadSession, input: UploadChunkInput): ChunkResult | null {
  if (session.status === UploadStatus.Aborted) throw new UploadGoneError(session.uploadId, 'aborted');
  if (session.status === UploadStatus.Rejected) throw rejectedAgain(session);
  if (session.status === UploadStatus.Complete) {
    // An empty chunk at the end of a finished upload is a harmless retry: answer without a new event.
    if (input.offset === session.totalSize && input.contentLength === 0) {
      return { session: toSessionView(session), bytesWritten: 0, endReason: 'eof' };
    }
    throw new OffsetMismatchError(session.uploadedBytes, input.offset);
  }
  if (session.expiresAt <= Date.now()) throw new UploadGoneError(session.uploadId, 'expired');
  if (input.offset !== session.uploadedBytes) throw new OffsetMismatchError(session.uploadedBytes, input.offset);
  return null;
}

/** The answer for a request to an upload the policy refused: the recorded rejection again. */
export function rejectedAgain(session: Pick<UploadSession, 'metadata'>): UploadRejectedError {
  const rejection = rejectionOf(session);
  return rejection ? UploadRejectedError.from(rejection) : new UploadRejectedError('Upload rejected');
}

/** Validate declared sizes against the upload and the limits; returns the (possibly just declared) total. */
export function checkSize(session: UploadSession, input: UploadChunkInput, maxUploadSize: number): number | null {
  let totalSize = session.totalSize;
  if (input.declareTotalSize !== undefined) {
    const declared = input.declareTotalSize;
    if (!Number.isSafeInteger(declared) || declared < 0) {
      throw new InvalidRequestError('Upload length must be a non-negative integer', 'INVALID_LENGTH');
    }
    if (totalSize !== null && declared !== totalSize) {
      throw new InvalidRequestError('Upload length is already set and cannot change', 'INVALID_LENGTH');
    }
    if (declared < session.uploadedBytes) {
      throw new InvalidRequestError('Upload length is smaller than the bytes already stored', 'INVALID_LENGTH');
    }
    if (declared > maxUploadSize) {
      throw new SizeExceededError(`Upload length exceeds the maximum of ${maxUploadSize}`, maxUploadSize);
    }
    totalSize = declared;
  }
  const limit = totalSize ?? maxUploadSize;
  if (input.contentLength != null && input.offset + input.contentLength > limit) {
    throw chunkTooLarge(totalSize, maxUploadSize);
  }
  return totalSize;
}

/** The 413 for a chunk that would go past the upload's total size, or past the maximum while it is deferred. */
export function chunkTooLarge(totalSize: number | null, maxUploadSize: number): SizeExceededError {
  return new SizeExceededError(
    totalSize === null
      ? `Upload would exceed the maximum of ${maxUploadSize} bytes`
      : `Chunk goes past the upload's total size of ${totalSize} bytes`,
    totalSize ?? maxUploadSize,
  );
}

/**
 * What a client's status read (tus HEAD, draft offset retrieval) answers for an upload that has ended without
 * completing: 410 once aborted or expired unfinished, the recorded rejection again once the policy refused it.
 */
export function assertStatusReadable(
  session: Pick<UploadSession, 'uploadId' | 'status' | 'expiresAt' | 'metadata'>,
): void {
  if (session.status === UploadStatus.Aborted) throw new UploadGoneError(session.uploadId, 'aborted');
  // The policy refused it: every request for it answers the same rejection.
  if (session.status === UploadStatus.Rejected) throw rejectedAgain(session);
  if (ACTIVE_STATUSES.includes(session.status) && session.expiresAt <= Date.now()) {
    throw new UploadGoneError(session.uploadId, 'expired');
  }
}
