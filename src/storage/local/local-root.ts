import { randomBytes } from 'node:crypto';
import { mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { InvalidPathError, PathConflictError } from '../../errors/vali-blob.errors';
import { RESERVED_SEGMENT, validateBlobPath } from '../blob-path';
import { errnoOf, isMissing, mapReadError, mapWriteError } from './local-fs-errors';

/**
 * The storage root of the local provider and the only way from a blob path to a file: every path is validated,
 * then resolved against the root with symlinks followed; anything that would land outside the root (case-sensitive
 * comparison of real paths) or in the reserved area is refused with `INVALID_PATH`.
 */
export class LocalRoot {
  /** The configured root, resolved (not following symlinks). */
  readonly directory: string;
  private realRootPromise?: Promise<string>;

  constructor(root: string) {
    this.directory = resolve(root);
  }

  /** The root's real path; the directory is created on first use. */
  real(): Promise<string> {
    this.realRootPromise ??= mkdir(this.directory, { recursive: true }).then(() => realpath(this.directory));
    // A failed attempt (e.g. permissions) must not poison later ones.
    this.realRootPromise.catch(() => (this.realRootPromise = undefined));
    return this.realRootPromise;
  }

  /** A fresh file name under `<root>/.valiblob/tmp/` (same file system as the blobs, so `rename` publishes). */
  async tempFile(): Promise<string> {
    const dir = join(await this.real(), RESERVED_SEGMENT, 'tmp');
    await mkdir(dir, { recursive: true });
    return join(dir, randomBytes(12).toString('hex'));
  }

  /** Resolve a user path for reading: it must exist and its real path must stay under the root. */
  async resolveForRead(path: string): Promise<string> {
    validateBlobPath(path);
    const realRoot = await this.real();
    const candidate = join(realRoot, path);
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (error) {
      // Missing, through a file (ENOTDIR) → 404; a name the file system refuses → 400.
      throw mapReadError(error, path);
    }
    assertInside(realRoot, real, path);
    return candidate;
  }

  /**
   * Resolve a user path for writing: create the parent directories, then check that the parent's real path is
   * under the root (a symlinked directory pointing elsewhere is refused). The final component is replaced by
   * `rename`, which never follows a symlink there.
   */
  async resolveForWrite(path: string, create = true): Promise<string> {
    validateBlobPath(path);
    const realRoot = await this.real();
    const candidate = join(realRoot, path);
    const parent = dirname(candidate);
    try {
      const existing = await nearestExisting(parent);
      assertInside(realRoot, existing, path, true);
      if (create) {
        await mkdir(parent, { recursive: true });
        assertInside(realRoot, await realpath(parent), path, true);
      }
    } catch (error) {
      // A parent that is a file (ENOTDIR/EEXIST), a name too long: the client's path, not an outage.
      throw mapWriteError(error, path);
    }
    return candidate;
  }

  /**
   * A blob cannot live below another blob (a parent segment that is a file) nor replace a folder of blobs; a
   * name the file system refuses is a bad path. Checked segment by segment down to the first one missing.
   */
  async assertCreatable(path: string): Promise<void> {
    validateBlobPath(path);
    const segments = path.split('/');
    let current = await this.real();
    for (let i = 0; i < segments.length; i++) {
      current = join(current, segments[i]);
      let st;
      try {
        st = await stat(current);
      } catch (error) {
        if (isMissing(error)) return;
        const mapped = mapWriteError(error, path);
        if (mapped !== error) throw mapped;
        throw error;
      }
      if (i < segments.length - 1 && !st.isDirectory()) throw new PathConflictError(path, 'a parent segment is a blob');
      if (i === segments.length - 1 && st.isDirectory()) {
        throw new PathConflictError(path, 'the path names a folder of other blobs');
      }
    }
  }
}

/** Real path of `dir`, or of its nearest ancestor that exists. */
async function nearestExisting(dir: string): Promise<string> {
  let current = dir;
  for (;;) {
    try {
      return await realpath(current);
    } catch (error) {
      if (!isMissing(error) && errnoOf(error) !== 'ENOTDIR') throw error;
      const up = dirname(current);
      if (up === current) throw error;
      current = up;
    }
  }
}

function assertInside(realRoot: string, real: string, path: string, allowRoot = false): void {
  if (allowRoot && real === realRoot) return;
  const rel = relative(realRoot, real);
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep) || resolve(realRoot, rel) !== real) {
    throw new InvalidPathError(path, 'path resolves outside the storage root');
  }
  if (rel.split(sep)[0] === RESERVED_SEGMENT) throw new InvalidPathError(path, 'path resolves into the reserved area');
}
