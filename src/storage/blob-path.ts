import { InvalidPathError } from '../errors/vali-blob.errors';

/** Longest accepted blob path, in UTF-16 code units (S3's key limit is 1024 bytes; stay portable). */
export const MAX_PATH_LENGTH = 1024;

/** First path segment reserved for provider internals (staging areas); users may not write under it. */
export const RESERVED_SEGMENT = '.valiblob';

/**
 * Validate a blob path once, the same way for every provider. Accepts `/`-separated relative paths; rejects
 * `..` and `.` segments, empty segments (leading, trailing or double `/`), absolute and drive-letter paths,
 * NUL, backslashes, control characters and the reserved `.valiblob` namespace. Returns the path unchanged
 * (no silent normalisation: a path that would need it is refused, so two spellings never name one blob).
 */
export function validateBlobPath(path: unknown): string {
  if (typeof path !== 'string') throw new InvalidPathError(String(path), 'path must be a string');
  if (path.length === 0) throw new InvalidPathError(path, 'path is empty');
  if (path.length > MAX_PATH_LENGTH) throw new InvalidPathError(path, `path is longer than ${MAX_PATH_LENGTH}`);
  if (path.includes('\0')) throw new InvalidPathError(path, 'path contains NUL');
  if (path.includes('\\')) throw new InvalidPathError(path, 'path contains a backslash');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new InvalidPathError(path, 'path contains a control character');
  if (path.startsWith('/')) throw new InvalidPathError(path, 'path is absolute');
  if (/^[A-Za-z]:/.test(path)) throw new InvalidPathError(path, 'path has a drive letter');
  const segments = path.split('/');
  for (const segment of segments) {
    if (segment === '') throw new InvalidPathError(path, 'path has an empty segment');
    if (segment === '.' || segment === '..') throw new InvalidPathError(path, 'path has a . or .. segment');
  }
  if (segments[0] === RESERVED_SEGMENT) throw new InvalidPathError(path, `${RESERVED_SEGMENT}/ is reserved`);
  return path;
}

/**
 * Validate a listing prefix: empty means "everything"; otherwise the same rules as a path, except that a
 * trailing `/` is allowed (to list a folder).
 */
export function validateBlobPrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === '') return '';
  if (typeof prefix !== 'string') throw new InvalidPathError(String(prefix), 'prefix must be a string');
  validateBlobPath(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/**
 * Reduce a client-supplied file name to one safe path segment (for tus `filename` metadata and REST defaults):
 * keeps the last component, replaces anything outside a conservative set with `_`, never returns `.`/`..`.
 */
export function sanitizeFileName(name: string | null | undefined, fallback = 'file'): string {
  if (!name) return fallback;
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/[^\p{L}\p{N}._\- ()+@,=]/gu, '_')
    .trim()
    .slice(0, 200);
  if (clean === '' || /^\.+$/.test(clean)) return fallback;
  return clean.startsWith(RESERVED_SEGMENT) ? `_${clean}` : clean;
}
