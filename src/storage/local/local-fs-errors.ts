import {
  BlobExistsError,
  BlobNotFoundError,
  InvalidPathError,
  PathConflictError,
  ValiBlobError,
} from '../../errors/vali-blob.errors';

/** The `code` of a Node.js system error (`ENOENT`, …), or undefined. */
export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Whether the error says a file or directory does not exist. */
export function isMissing(error: unknown): boolean {
  return errnoOf(error) === 'ENOENT';
}

/** `catch` helper: a missing entry (or a path running through a file) becomes `null`; anything else rethrows. */
export function ignoreMissing(error: unknown): null {
  if (isMissing(error) || errnoOf(error) === 'ENOTDIR') return null;
  throw error;
}

/**
 * Map a file system error met while reading a user path to the client's mistake it stands for: a path that
 * does not exist or runs through a file is "not found" (404), a name the file system refuses is a bad path
 * (400). Anything else (EIO, EACCES) is returned unchanged, i.e. a real storage fault.
 */
export function mapReadError(error: unknown, path: string): unknown {
  if (error instanceof ValiBlobError) return error;
  switch (errnoOf(error)) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EISDIR':
      return new BlobNotFoundError(path);
    default:
      return unusablePathError(error, path);
  }
}

/** A path the file system cannot hold at all (400 whether reading or writing), else the error unchanged. */
function unusablePathError(error: unknown, path: string): unknown {
  switch (errnoOf(error)) {
    case 'ENAMETOOLONG':
      return new InvalidPathError(path, 'a path segment is too long for the storage file system');
    case 'ELOOP':
      return new InvalidPathError(path, 'path runs through too many symbolic links');
    default:
      return error;
  }
}

/**
 * Map a file system error met while creating or publishing a user path (mkdir of the parents, rename, link)
 * to a 4xx: these are races with another writer or a path the file system cannot hold, never an outage that a
 * client should retry forever. `EEXIST` from a no-replace publish means a blob is already there.
 */
export function mapWriteError(error: unknown, path: string, publishing = false): unknown {
  if (error instanceof ValiBlobError) return error;
  switch (errnoOf(error)) {
    case 'EEXIST':
      return publishing ? new BlobExistsError(path) : new PathConflictError(path, 'a parent segment is a blob');
    case 'ENOTDIR':
      return new PathConflictError(path, 'a parent segment is a blob');
    case 'EISDIR':
    case 'ENOTEMPTY':
      return new PathConflictError(path, 'the path names a folder of other blobs');
    default:
      return unusablePathError(error, path);
  }
}
