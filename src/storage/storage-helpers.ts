import { decodeOpaqueCursor, encodeOpaqueCursor } from '../common/opaque-cursor';
import { InvalidRequestError } from '../errors/vali-blob.errors';
import { ByteRange } from './storage-provider';

/** Metadata keys every provider accepts unchanged (Azure requires C# identifiers; S3 lower-cases keys). */
const METADATA_KEY = /^[a-z_][a-z0-9_]{0,63}$/;
/** Largest single metadata value accepted (S3 allows 2 KiB for all user metadata together). */
const MAX_METADATA_VALUE = 1024;

/**
 * Validate user metadata for a blob so it round-trips with identical keys on every provider: keys must be
 * lower-case ASCII letters, digits or `_` (not starting with a digit), values strings of at most 1 KiB.
 * @publicApi
 */
export function normalizeMetadata(metadata: Record<string, string> | undefined | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!metadata) return out;
  for (const [key, value] of Object.entries(metadata)) {
    if (!METADATA_KEY.test(key)) {
      throw new InvalidRequestError(
        `Metadata key "${key.slice(0, 64)}" must match ${METADATA_KEY.source}`,
        'INVALID_METADATA',
      );
    }
    if (typeof value !== 'string' || value.length > MAX_METADATA_VALUE) {
      throw new InvalidRequestError(
        `Metadata value of "${key}" must be a string of at most ${MAX_METADATA_VALUE} characters`,
        'INVALID_METADATA',
      );
    }
    out[key] = value;
  }
  return out;
}

/**
 * Map arbitrary client metadata keys (tus `Upload-Metadata`, REST `metadata`) onto the portable key alphabet,
 * so they can be stored with the blob on any provider: lower-cased, other characters replaced by `_`.
 * @publicApi
 */
export function toBlobMetadata(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    let portable = key
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')
      .slice(0, 64);
    if (/^[0-9]/.test(portable)) portable = `_${portable.slice(0, 63)}`;
    if (portable === '' || value.length > MAX_METADATA_VALUE) continue;
    out[portable] = value;
  }
  return out;
}

/**
 * Clamp a requested inclusive range to a blob of `size` bytes. A start at or past the end (or any range of an
 * empty blob) is unsatisfiable and throws `INVALID_RANGE` (HTTP 416 at the blob route).
 * @publicApi
 */
export function resolveRange(range: ByteRange, size: number): { start: number; end: number } {
  const { start } = range;
  if (!Number.isSafeInteger(start) || start < 0 || start >= size) {
    throw new InvalidRequestError(`Range start ${start} is not within 0..${size - 1}`, 'INVALID_RANGE', { size });
  }
  const end = range.end === undefined ? size - 1 : Math.min(range.end, size - 1);
  if (!Number.isSafeInteger(end) || end < start) {
    throw new InvalidRequestError('Range end is before its start', 'INVALID_RANGE', { size });
  }
  return { start, end };
}

/** Page size for `list`, clamped to 1..1000 (default 1000, S3's own maximum). */
export function listLimit(limit: number | undefined): number {
  if (limit === undefined) return 1000;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidRequestError('list limit must be a positive integer');
  return Math.min(limit, 1000);
}

/** Opaque list cursor: the last path of the page. */
export function encodeListCursor(lastPath: string): string {
  return encodeOpaqueCursor(lastPath);
}

/** Inverse of `encodeListCursor`. */
export function decodeListCursor(cursor: string | undefined): string | undefined {
  return decodeOpaqueCursor(cursor, 'list cursor');
}
