import { InvalidRequestError, SizeExceededError } from '../errors/vali-blob.errors';

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
