import { randomBytes } from 'node:crypto';
import {
  FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  realpath,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import {
  BlobExistsError,
  BlobNotFoundError,
  InvalidPathError,
  PathConflictError,
  StorageUnavailableError,
} from '../../errors/vali-blob.errors';
import { RESERVED_SEGMENT, validateBlobPath, validateBlobPrefix } from '../blob-path';
import { decodeListCursor, encodeListCursor, listLimit, normalizeMetadata, resolveRange } from '../storage-helpers';
import {
  BeginUploadRequest,
  BlobInfo,
  BlobReadResult,
  ByteRange,
  CompleteUploadRequest,
  ListOptions,
  ListPage,
  PutOptions,
  ResumableState,
  StorageProvider,
  WriteChunkOptions,
  WriteChunkResult,
} from '../storage-provider';
import { errnoOf, ignoreMissing, isMissing, mapReadError, mapWriteError } from './local-fs-errors';
import { writeAt } from './local-file-io';
import { LocalSidecars, Sidecar } from './local-sidecar';
import { LocalStaging, StagingMissingError } from './local-staging';

/** Options of the local disk provider. */
export interface LocalStorageOptions {
  /** Directory that holds every blob; created when missing. Default `./data/blobs`. */
  root: string;
  /** `fsync` chunk data before the offset advances (default true; turning it off trades durability for speed). */
  fsync?: boolean;
}

/**
 * Blob storage on the local file system.
 *
 * - Every path is validated and then resolved against the root with symlinks followed; anything that would land
 *   outside the root (case-sensitive comparison of real paths) is refused with `INVALID_PATH`.
 * - Resumable uploads are staged under `<root>/.valiblob/staging/<uploadId>.parts/`, a namespace users cannot
 *   address, in per-instance segment files fenced at the byte level (see `LocalStaging`); bytes are `fsync`ed
 *   before they are reported as written. Complete publishes with one atomic `rename` (or `link` when
 *   `overwrite: false`, so an existing blob is never replaced).
 * - Whole-blob writes go to a temp file first and are renamed into place, so readers never see half a blob.
 * - Content type and metadata live in sidecars under `<root>/.valiblob/meta/` named by a hash of the path.
 */
export class LocalStorageProvider extends StorageProvider {
  private readonly root: string;
  private realRootPromise?: Promise<string>;
  private readonly fsyncEnabled: boolean;
  private readonly sidecars: LocalSidecars;
  private readonly staging: LocalStaging;

  constructor(options: LocalStorageOptions) {
    super();
    this.root = resolve(options.root);
    this.fsyncEnabled = options.fsync !== false;
    this.sidecars = new LocalSidecars(async () => join(await this.realRoot(), RESERVED_SEGMENT, 'meta'));
    const stagingRoot = async () => join(await this.realRoot(), RESERVED_SEGMENT, 'staging');
    this.staging = new LocalStaging(stagingRoot, this.fsyncEnabled);
  }

  /** The resolved root directory (for logs and tests). */
  get rootDirectory(): string {
    return this.root;
  }

  /** Random id naming this instance's staging segments (for tests and diagnostics). */
  get instanceId(): string {
    return this.staging.instanceId;
  }

  async put(path: string, body: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    const target = await this.resolveForWrite(path);
    const temp = await this.tempFile();
    try {
      const handle = await open(temp, 'w');
      try {
        await writeAt(handle, body, 0);
        if (this.fsyncEnabled) await handle.datasync();
      } finally {
        await handle.close();
      }
      const metadata = normalizeMetadata(options.metadata);
      await this.sidecars.write(path, { contentType: options.contentType ?? null, metadata });
      await rename(temp, target).catch((error) => {
        throw mapWriteError(error, path);
      });
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return this.requireInfo(path);
  }

  /**
   * Every check (path, existence, type, range) runs on an open descriptor before the stream exists, and the
   * descriptor is closed on any failure, so a failing read never leaves one open. Size and range come from that
   * descriptor, so they describe exactly the bytes served even if the blob is replaced meanwhile.
   */
  async get(path: string, range?: ByteRange): Promise<BlobReadResult> {
    const file = await this.resolveForRead(path);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      throw mapReadError(error, path);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new BlobNotFoundError(path);
      const info = this.infoOf(path, st, await this.sidecars.read(path));
      if (!range) return { info, stream: handle.createReadStream() };
      const served = resolveRange(range, st.size);
      return { info, range: served, stream: handle.createReadStream({ start: served.start, end: served.end }) };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw mapReadError(error, path);
    }
  }

  async stat(path: string): Promise<BlobInfo | null> {
    let file: string;
    try {
      file = await this.resolveForRead(path);
    } catch (error) {
      if (error instanceof BlobNotFoundError) return null;
      throw error;
    }
    const st = await stat(file).catch((error) => {
      const mapped = mapReadError(error, path);
      if (mapped instanceof BlobNotFoundError) return null;
      throw mapped;
    });
    if (!st || !st.isFile()) return null;
    return this.infoOf(path, st, await this.sidecars.read(path));
  }

  async delete(path: string): Promise<boolean> {
    const file = await this.resolveForWrite(path, false);
    const st = await stat(file).catch(ignoreMissing);
    if (!st || !st.isFile()) return false;
    await unlink(file).catch(ignoreMissing);
    await this.sidecars.remove(path);
    return true;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const cleanPrefix = validateBlobPrefix(prefix);
    const limit = listLimit(options.limit);
    const after = decodeListCursor(options.cursor);
    const realRoot = await this.realRoot();
    // Walk only the deepest directory the prefix implies, then filter and sort full paths: sorting per
    // directory would not give the lexicographic order of full paths that the cursor relies on.
    const lastSlash = cleanPrefix.lastIndexOf('/');
    const baseDir = lastSlash >= 0 ? cleanPrefix.slice(0, lastSlash) : '';
    const paths: string[] = [];
    await this.walk(join(realRoot, baseDir), baseDir, paths);
    const selected = paths
      .filter((p) => p.startsWith(cleanPrefix) && (after === undefined || p > after))
      .sort()
      .slice(0, limit + 1);
    const page = selected.slice(0, limit);
    const items: BlobInfo[] = [];
    for (const p of page) {
      const info = await this.stat(p);
      if (info) items.push(info);
    }
    return { items, nextCursor: selected.length > limit ? encodeListCursor(page[page.length - 1]) : null };
  }

  async copy(from: string, to: string): Promise<BlobInfo> {
    const sidecar = await this.sidecars.read(from);
    const { stream } = await this.get(from);
    return this.put(to, stream, sidecar);
  }

  async move(from: string, to: string): Promise<BlobInfo> {
    const source = await this.resolveForRead(from);
    if (!(await this.stat(from))) throw new BlobNotFoundError(from);
    const target = await this.resolveForWrite(to);
    const sidecar = await this.sidecars.read(from);
    await this.sidecars.write(to, sidecar);
    await rename(source, target).catch((error) => {
      throw mapWriteError(error, to);
    });
    if (from !== to) await this.sidecars.remove(from);
    return this.requireInfo(to);
  }

  /**
   * A blob cannot live below another blob (a parent segment that is a file) nor replace a folder of blobs; a
   * name the file system refuses is a bad path. Checked segment by segment down to the first one missing.
   */
  override async assertCreatable(path: string): Promise<void> {
    validateBlobPath(path);
    const segments = path.split('/');
    let current = await this.realRoot();
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

  async beginUpload(request: BeginUploadRequest): Promise<ResumableState> {
    return this.staging.begin(request.uploadId);
  }

  async writeChunk(
    state: ResumableState,
    offset: number,
    body: Readable,
    options: WriteChunkOptions = {},
  ): Promise<WriteChunkResult> {
    return this.staging.write(state, offset, body, options);
  }

  async completeUpload(state: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    const target = await this.resolveForWrite(request.path).catch((error) => {
      throw mapWriteError(error, request.path);
    });
    const sidecar: Sidecar = { contentType: request.contentType, metadata: normalizeMetadata(request.metadata) };
    let assembled;
    try {
      assembled = await this.staging.assemble(state, request.totalSize, () => this.tempFile());
    } catch (error) {
      if (!(error instanceof StagingMissingError)) throw error;
      // A previous complete may have published the data and died before the session was updated.
      const existing = await this.stat(request.path);
      if (!existing || existing.size !== request.totalSize) throw error;
      await this.sidecars.write(request.path, sidecar);
      return this.requireInfo(request.path);
    }
    try {
      if (request.overwrite === false) {
        await this.publishNoReplace(assembled.file, target, request.path);
        await this.sidecars.write(request.path, sidecar);
      } else {
        await this.sidecars.write(request.path, sidecar);
        await rename(assembled.file, target).catch((error) => {
          throw mapWriteError(error, request.path, true);
        });
      }
    } catch (error) {
      // Keep the staged data (the caller may retry at another path); only a copy made for this call goes.
      if (assembled.copied) await rm(assembled.file, { force: true });
      throw error;
    } finally {
      assembled.release();
    }
    // Published: the segments (every instance's, committed or not) are no longer needed.
    await this.staging.discard(state).catch(() => undefined);
    return this.requireInfo(request.path);
  }

  async abortUpload(state: ResumableState): Promise<void> {
    await this.staging.discard(state);
  }

  async ping(): Promise<void> {
    try {
      const temp = await this.tempFile();
      await writeFile(temp, 'ok');
      await unlink(temp);
    } catch (error) {
      throw new StorageUnavailableError(`Local storage root is not writable (${errnoOf(error) ?? 'error'})`, {
        cause: error,
      });
    }
  }

  /** Staging file of an upload's last committed segment, or its staging directory (for tests and diagnostics). */
  async stagingPathOf(state: ResumableState): Promise<string> {
    return this.staging.pathOf(state);
  }

  /** Where the sidecar of `path` lives (for tests and diagnostics). */
  async sidecarPathOf(path: string): Promise<string> {
    return this.sidecars.fileOf(validateBlobPath(path));
  }

  /**
   * Publish `file` at `target` only if nothing is there: `link` fails with EEXIST instead of replacing (atomic,
   * no check-then-act), then the staging name is dropped. A target that is already the same inode is a previous
   * attempt of this very publish that died before the unlink.
   */
  private async publishNoReplace(file: string, target: string, path: string): Promise<void> {
    try {
      await link(file, target);
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST') throw mapWriteError(error, path, true);
      const [mine, theirs] = await Promise.all([lstat(file), lstat(target).catch(() => null)]);
      if (theirs?.isDirectory()) throw new PathConflictError(path, 'the path names a folder of other blobs');
      if (!theirs || theirs.ino !== mine.ino || theirs.dev !== mine.dev) throw new BlobExistsError(path);
    }
    await unlink(file).catch(ignoreMissing);
  }

  private infoOf(path: string, st: { size: number; mtimeMs: number }, sidecar: Sidecar): BlobInfo {
    return {
      path,
      size: st.size,
      contentType: sidecar.contentType,
      lastModified: Math.floor(st.mtimeMs),
      etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      metadata: sidecar.metadata,
    };
  }

  private async tempFile(): Promise<string> {
    const dir = join(await this.realRoot(), RESERVED_SEGMENT, 'tmp');
    await mkdir(dir, { recursive: true });
    return join(dir, randomBytes(12).toString('hex'));
  }

  private realRoot(): Promise<string> {
    this.realRootPromise ??= mkdir(this.root, { recursive: true }).then(() => realpath(this.root));
    // A failed attempt (e.g. permissions) must not poison later ones.
    this.realRootPromise.catch(() => (this.realRootPromise = undefined));
    return this.realRootPromise;
  }

  /** Resolve a user path for reading: it must exist and its real path must stay under the root. */
  private async resolveForRead(path: string): Promise<string> {
    validateBlobPath(path);
    const realRoot = await this.realRoot();
    const candidate = join(realRoot, path);
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (error) {
      // Missing, through a file (ENOTDIR) → 404; a name the file system refuses → 400.
      throw mapReadError(error, path);
    }
    this.assertInside(realRoot, real, path);
    return candidate;
  }

  /**
   * Resolve a user path for writing: create the parent directories, then check that the parent's real path is
   * under the root (a symlinked directory pointing elsewhere is refused). The final component is replaced by
   * `rename`, which never follows a symlink there.
   */
  private async resolveForWrite(path: string, create = true): Promise<string> {
    validateBlobPath(path);
    const realRoot = await this.realRoot();
    const candidate = join(realRoot, path);
    const parent = dirname(candidate);
    try {
      const existing = await this.nearestExisting(parent);
      this.assertInside(realRoot, existing, path, true);
      if (create) {
        await mkdir(parent, { recursive: true });
        this.assertInside(realRoot, await realpath(parent), path, true);
      }
    } catch (error) {
      // A parent that is a file (ENOTDIR/EEXIST), a name too long: the client's path, not an outage.
      throw mapWriteError(error, path);
    }
    return candidate;
  }

  private async nearestExisting(dir: string): Promise<string> {
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

  private assertInside(realRoot: string, real: string, path: string, allowRoot = false): void {
    if (allowRoot && real === realRoot) return;
    const rel = relative(realRoot, real);
    if (rel === '' || rel.startsWith('..') || rel.startsWith(sep) || resolve(realRoot, rel) !== real) {
      throw new InvalidPathError(path, 'path resolves outside the storage root');
    }
    if (rel.split(sep)[0] === RESERVED_SEGMENT) throw new InvalidPathError(path, 'path resolves into the reserved area');
  }

  private async walk(dir: string, relDir: string, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error) || errnoOf(error) === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      if (relDir === '' && entry.name === RESERVED_SEGMENT) continue;
      const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
      // Symlinks are not followed while listing: a link could point outside the root.
      if (entry.isDirectory()) await this.walk(join(dir, entry.name), rel, out);
      else if (entry.isFile()) out.push(rel);
    }
  }

  private async requireInfo(path: string): Promise<BlobInfo> {
    const info = await this.stat(path);
    if (!info) throw new BlobNotFoundError(path);
    return info;
  }
}
