import { InvalidPathError } from '../errors/vali-blob.errors';

/** Longest accepted blob path, in UTF-8 bytes (S3's key limit; Azure and local disks accept it too). */
export const MAX_PATH_LENGTH = 1024;

/** Longest accepted path segment, in UTF-8 bytes (NAME_MAX of common file systems: ext4, XFS, APFS, NTFS). */
export const MAX_SEGMENT_BYTES = 255;

/** Longest name `sanitizeFileName` returns, in UTF-8 bytes (leaves room under MAX_SEGMENT_BYTES). */
export const MAX_FILE_NAME_BYTES = 200;

/** First path segment reserved for provider internals (staging areas); users may not write under it. */
export const RESERVED_SEGMENT = '.valiblob';

/**
 * Validate a blob path once, the same way for every provider. Accepts `/`-separated relative paths; rejects
 * `..` and `.` segments, empty segments (leading, trailing or double `/`), absolute and drive-letter paths,
 * NUL, backslashes, control characters and the reserved `.valiblob` namespace. Returns the path unchanged
 * (no silent normalisation: a path that would need it is refused, so two spellings never name one blob).
 * @publicApi
 */
export function validateBlobPath(path: unknown): string {
  if (typeof path !== 'string') throw new InvalidPathError(String(path), 'path must be a string');
  if (path.length === 0) throw new InvalidPathError(path, 'path is empty');
  // A lone surrogate has no UTF-8 form: every backend would store a replacement character, so two spellings
  // would name one blob (and Buffer.byteLength would undercount).
  if (!isWellFormed(path)) throw new InvalidPathError(path, 'path is not well-formed Unicode (lone surrogate)');
  // Limits are in bytes, as file systems and object stores count them (a CJK character is 3 bytes).
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_LENGTH) {
    throw new InvalidPathError(path, `path is longer than ${MAX_PATH_LENGTH} bytes (UTF-8)`);
  }
  if (path.includes('\0')) throw new InvalidPathError(path, 'path contains NUL');
  if (path.includes('\\')) throw new InvalidPathError(path, 'path contains a backslash');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new InvalidPathError(path, 'path contains a control character');
  if (path.startsWith('/')) throw new InvalidPathError(path, 'path is absolute');
  if (/^[A-Za-z]:/.test(path)) throw new InvalidPathError(path, 'path has a drive letter');
  const segments = path.split('/');
  for (const segment of segments) {
    if (segment === '') throw new InvalidPathError(path, 'path has an empty segment');
    if (segment === '.' || segment === '..') throw new InvalidPathError(path, 'path has a . or .. segment');
    if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) {
      throw new InvalidPathError(path, `a path segment is longer than ${MAX_SEGMENT_BYTES} bytes (UTF-8)`);
    }
  }
  if (segments[0] === RESERVED_SEGMENT) throw new InvalidPathError(path, `${RESERVED_SEGMENT}/ is reserved`);
  return path;
}

/**
 * Validate a listing prefix: empty means "everything"; otherwise the same rules as a path, except that a
 * trailing `/` is allowed (to list a folder).
 * @publicApi
 */
export function validateBlobPrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === '') return '';
  if (typeof prefix !== 'string') throw new InvalidPathError(String(prefix), 'prefix must be a string');
  validateBlobPath(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/**
 * Reduce a client-supplied file name to one safe path segment (for tus `filename` metadata and REST defaults):
 * keeps the last component, replaces anything outside a conservative set with `_`, never returns `.`/`..`, and
 * cuts it to at most MAX_FILE_NAME_BYTES UTF-8 bytes at a character boundary, keeping a short extension (so 100
 * CJK characters, 300 bytes, become a valid segment instead of a path refused at create).
 * @publicApi
 */
export function sanitizeFileName(name: string | null | undefined, fallback = 'file'): string {
  if (!name) return fallback;
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = truncateFileName(
    base
      .normalize('NFC')
      // eslint-disable-next-line no-control-regex -- control characters are exactly what this strips
      .replace(/[\u0000-\u001f\u007f]/g, '')
      // Lone surrogates are not matched by \p{L}/\p{N}, so they become `_` here too.
      .replace(/[^\p{L}\p{N}._\- ()+@,=]/gu, '_')
      .trim(),
    MAX_FILE_NAME_BYTES,
  ).trim();
  if (clean === '' || /^\.+$/.test(clean)) return fallback;
  if (!clean.startsWith(RESERVED_SEGMENT)) return clean;
  return truncateFileName(`_${clean}`, MAX_FILE_NAME_BYTES);
}

/** Longest extension (with its dot, in bytes) kept whole when a name is cut. */
const MAX_KEPT_EXTENSION_BYTES = 32;

/** Cut `name` to `maxBytes` UTF-8 bytes at a code point boundary, keeping a short extension when there is one. */
function truncateFileName(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name, 'utf8') <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot) : '';
  const extensionBytes = Buffer.byteLength(extension, 'utf8');
  if (extension && extensionBytes <= MAX_KEPT_EXTENSION_BYTES) {
    return cutToBytes(name.slice(0, dot), maxBytes - extensionBytes) + extension;
  }
  return cutToBytes(name, maxBytes);
}

/** The longest prefix of `text` (whole code points) that fits in `maxBytes` UTF-8 bytes. */
function cutToBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/** `String.prototype.isWellFormed` (Node ≥ 20), with a regex fallback for older runtimes and typings. */
function isWellFormed(text: string): boolean {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  if (typeof native === 'function') return native.call(text);
  return !/\p{Surrogate}/u.test(text);
}
