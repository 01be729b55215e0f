import { InvalidRequestError } from '../../errors/vali-blob.errors';
import { isHeaderSafe } from '../../uploads/content-type';
import { RESERVED_METADATA_PREFIX } from '../../uploads/upload-transport';

/** Metadata keys whose value names the uploaded file (tus-js-client and Uppy send `filename` and `name`). */
export const FILENAME_KEYS = ['filename', 'name'] as const;
/** Metadata keys whose value is the file's MIME type (Uppy sends `filetype` and `type`). */
export const FILETYPE_KEYS = ['filetype', 'type', 'contentType'] as const;

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parse an `Upload-Metadata` header strictly (tus 1.0 creation extension): comma-separated `key base64value`
 * pairs; keys non-empty, ASCII without spaces or commas, unique; the value may be empty (the space may then
 * be omitted). Values are decoded to UTF-8 strings because the engine keeps string metadata; a value that is
 * not valid UTF-8 is refused rather than silently altered. Anything malformed is a 400 `INVALID_METADATA`,
 * never dropped silently (lenient parsing hides client bugs).
 */
export function parseTusMetadata(header: string | undefined, maxBytes: number): Record<string, string> {
  if (header === undefined) return {};
  if (Buffer.byteLength(header) > maxBytes) {
    throw new InvalidRequestError(`Upload-Metadata is larger than ${maxBytes} bytes`, 'INVALID_METADATA');
  }
  const out: Record<string, string> = {};
  if (header.trim() === '') return out;
  for (const rawPair of header.split(',')) {
    const pair = rawPair.trim();
    const match = /^([\x21-\x2b\x2d-\x7e]+)(?: ([A-Za-z0-9+/]*={0,2}))?$/.exec(pair);
    if (!match) {
      const message = 'Upload-Metadata must be comma-separated "key base64value" pairs';
      throw new InvalidRequestError(message, 'INVALID_METADATA');
    }
    const [, key, encoded = ''] = match;
    if (Object.prototype.hasOwnProperty.call(out, key)) {
      throw new InvalidRequestError(`Upload-Metadata repeats the key "${key.slice(0, 64)}"`, 'INVALID_METADATA');
    }
    if (encoded.length % 4 !== 0) {
      const message = `Upload-Metadata value of "${key.slice(0, 64)}" is not valid base64`;
      throw new InvalidRequestError(message, 'INVALID_METADATA');
    }
    let value: string;
    try {
      value = STRICT_UTF8.decode(Buffer.from(encoded, 'base64'));
    } catch {
      const message = `Upload-Metadata value of "${key.slice(0, 64)}" is not UTF-8 text`;
      throw new InvalidRequestError(message, 'INVALID_METADATA');
    }
    out[key] = value;
  }
  return out;
}

/**
 * Serialize metadata back to an `Upload-Metadata` header (for HEAD). Keys that could not have come from a
 * valid header are skipped and values are base64, so nothing a client stored can inject header content; the
 * library's own reserved keys are not shown.
 */
export function formatTusMetadata(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .filter(([key]) => /^[\x21-\x2b\x2d-\x7e]+$/.test(key) && !key.startsWith(RESERVED_METADATA_PREFIX))
    .map(([key, value]) => (value === '' ? key : `${key} ${Buffer.from(value, 'utf8').toString('base64')}`))
    .join(',');
}

/** First non-empty value among `keys`. */
export function pickMetadata(metadata: Record<string, string>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = metadata[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/**
 * A MIME type from client metadata, or null when it does not look like one (it is advisory, not an error) —
 * except a value that could never be sent back as a header (beyond Latin-1, control characters): that is a
 * broken client, refused with 400 `INVALID_METADATA` at create like REST's `contentType`.
 */
export function metadataContentType(metadata: Record<string, string>): string | null {
  const value = pickMetadata(metadata, FILETYPE_KEYS);
  if (value && !isHeaderSafe(value)) {
    throw new InvalidRequestError('Upload-Metadata filetype must be Latin-1 without controls', 'INVALID_METADATA');
  }
  if (!value || value.length > 255) return null;
  return /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(?:\s*;[\x20-\x7e]*)?$/.test(value) ? value : null;
}
