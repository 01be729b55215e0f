import { InvalidRequestError } from '../errors/vali-blob.errors';

/**
 * Whether `value` can be sent as an HTTP header value as is: Latin-1 only (Node refuses anything above
 * U+00FF with ERR_INVALID_CHAR) and no control characters (C0, DEL, C1) other than tab. A stored value that
 * fails this would make every later download of the blob fail, so such values are refused at create.
 */
export function isHeaderSafe(value: string): boolean {
  // C1 controls (U+0080..U+009F) are refused too although Node would send them: they are never meant.
  return !/[^\t\x20-\x7e\xa0-\xff]/.test(value);
}

/**
 * Validate a client's content type at create (REST `contentType`, tus `filetype`): a string of at most 255
 * characters that can go into a `Content-Type` header. Empty means none. Anything else is a 400, never a
 * blob whose every download fails.
 */
export function validateContentType(contentType: unknown): string | null {
  if (contentType === undefined || contentType === null || contentType === '') return null;
  if (typeof contentType !== 'string' || contentType.length > 255 || !isHeaderSafe(contentType)) {
    throw new InvalidRequestError(
      'contentType must be a MIME type of at most 255 printable Latin-1 characters (it is sent back as a header)',
    );
  }
  return contentType;
}
