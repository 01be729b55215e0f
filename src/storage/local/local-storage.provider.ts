import { randomBytes } from 'node:crypto';
import { constants as fsConstants, createReadStream } from 'node:fs';
import { FileHandle, mkdir, open, readdir, readFile, realpath, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import {
  BlobNotFoundError,
  InvalidPathError,
  InvalidRequestError,
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

/** Options of the local disk provider. */
export interface LocalStorageOptions {
  /** Directory that holds every blob; created when missing. Default `./data/blobs`. */
  root: string;
  /** `fsync` chunk data before the offset advances (default true; turning it off trades durability for speed). */
  fsync?: boolean;
}

/** Sidecar kept next to the data (under the reserved namespace) for content type and user metadata. */
interface Sidecar {
  contentType: string | null;
  metadata: Record<string, string>;
}

/** Local provider's resumable state: only the staging file name, derived from the upload id. */
interface LocalUploadState extends ResumableState {
  staging: string;
}

const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Blob storage on the local file system.
 *
 * - Every path is validated and then resolved against the root with symlinks followed; anything that would land
 *   outside the root (case-sensitive comparison of real paths) is refused with `INVALID_PATH`.
 * - Resumable uploads write by position into `<root>/.valiblob/staging/<uploadId>`, a namespace users cannot
 *   address, `fsync` before reporting bytes as written, and publish with one atomic `rename` on complete.
 * - Whole-blob writes go to a temp file first and are renamed into place, so readers never see half a blob.
 */
export class LocalStorageProvider extends StorageProvider {
  private readonly root: string;
  private realRootPromise?: Promise<string>;
  private readonly fsyncEnabled: boolean;

  constructor(options: LocalStorageOptions) {
    super();
    this.root = resolve(options.root);
    this.fsyncEnabled = options.fsync !== false;
  }

  /** The resolved root directory (for logs and tests). */
  get rootDirectory(): string {
    return this.root;
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
      await this.writeSidecar(path, { contentType: options.contentType ?? null, metadata: normalizeMetadata(options.metadata) });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return this.requireInfo(path);
  }

  async get(path: string, range?: ByteRange): Promise<BlobReadResult> {
    const file = await this.resolveForRead(path);
    const info = await this.requireInfo(path);
    if (!range) return { info, stream: createReadStream(file) };
    const served = resolveRange(range, info.size);
    return { info, range: served, stream: createReadStream(file, { start: served.start, end: served.end }) };
  }

  async stat(path: string): Promise<BlobInfo | null> {
    let file: string;
    try {
      file = await this.resolveForRead(path);
    } catch (error) {
      if (error instanceof BlobNotFoundError) return null;
      throw error;
    }
    const st = await stat(file).catch(ignoreMissing);
    if (!st || !st.isFile()) return null;
    const sidecar = await this.readSidecar(path);
    return {
      path,
      size: st.size,
      contentType: sidecar.contentType,
      lastModified: Math.floor(st.mtimeMs),
      etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      metadata: sidecar.metadata,
    };
  }

  async delete(path: string): Promise<boolean> {
    const file = await this.resolveForWrite(path, false);
    const st = await stat(file).catch(ignoreMissing);
    if (!st || !st.isFile()) return false;
    await unlink(file).catch(ignoreMissing);
    await rm(await this.sidecarFile(path), { force: true });
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
    const sidecar = await this.readSidecar(from);
    const { stream } = await this.get(from);
    return this.put(to, stream, sidecar);
  }

  async move(from: string, to: string): Promise<BlobInfo> {
    const source = await this.resolveForRead(from);
    if (!(await this.stat(from))) throw new BlobNotFoundError(from);
    const target = await this.resolveForWrite(to);
    const sidecar = await this.readSidecar(from);
    await this.writeSidecar(to, sidecar);
    await rename(source, target);
    if (from !== to) await rm(await this.sidecarFile(from), { force: true });
    return this.requireInfo(to);
  }

  async beginUpload(request: BeginUploadRequest): Promise<ResumableState> {
    const staging = this.stagingName(request.uploadId);
    const file = await this.stagingFile(staging);
    await mkdir(dirname(file), { recursive: true });
    const handle = await open(file, 'w');
    await handle.close();
    return { staging } satisfies LocalUploadState;
  }

  async writeChunk(
    state: ResumableState,
    offset: number,
    body: Readable,
    options: WriteChunkOptions = {},
  ): Promise<WriteChunkResult> {
    const file = await this.stagingFile(this.stagingName((state as LocalUploadState).staging));
    let handle: FileHandle;
    try {
      handle = await open(file, fsConstants.O_RDWR);
    } catch (error) {
      body.resume();
      if (isMissing(error)) throw new StorageUnavailableError('Staging data of this upload is missing');
      throw error;
    }
    try {
      const written = await writeAt(handle, body, offset);
      if (options.beforeCommit) await options.beforeCommit(written);
      if (this.fsyncEnabled) await handle.datasync();
      return { state, bytesWritten: written };
    } catch (error) {
      // Discard every byte of this chunk so the staging file never holds data past the committed offset.
      await handle.truncate(offset).catch(() => undefined);
      throw error;
    } finally {
      await handle.close();
    }
  }

  async completeUpload(state: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    const file = await this.stagingFile(this.stagingName((state as LocalUploadState).staging));
    const target = await this.resolveForWrite(request.path);
    const st = await stat(file).catch(ignoreMissing);
    if (!st) {
      // A previous complete may have renamed the file and died before the session was updated.
      const existing = await this.stat(request.path);
      if (existing && existing.size === request.totalSize) return existing;
      throw new StorageUnavailableError('Staging data of this upload is missing');
    }
    if (st.size !== request.totalSize) {
      const handle = await open(file, fsConstants.O_RDWR);
      try {
        if (st.size < request.totalSize) throw new StorageUnavailableError('Staging data is shorter than the upload');
        await handle.truncate(request.totalSize);
        if (this.fsyncEnabled) await handle.datasync();
      } finally {
        await handle.close();
      }
    }
    await this.writeSidecar(request.path, {
      contentType: request.contentType,
      metadata: normalizeMetadata(request.metadata),
    });
    await rename(file, target);
    return this.requireInfo(request.path);
  }

  async abortUpload(state: ResumableState): Promise<void> {
    const file = await this.stagingFile(this.stagingName((state as LocalUploadState).staging));
    await rm(file, { force: true });
  }

  async ping(): Promise<void> {
    try {
      const temp = await this.tempFile();
      await writeFile(temp, 'ok');
      await unlink(temp);
    } catch (error) {
      throw new StorageUnavailableError(`Local storage root is not writable (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
        cause: error,
      });
    }
  }

  /** Staging path of an upload (exposed for tests and cleanup diagnostics). */
  async stagingPathOf(state: ResumableState): Promise<string> {
    return this.stagingFile(this.stagingName((state as LocalUploadState).staging));
  }

  private stagingName(uploadId: string): string {
    // The id becomes a file name: allow only the URL-safe alphabet the engine generates.
    if (typeof uploadId !== 'string' || !UPLOAD_ID_PATTERN.test(uploadId)) {
      throw new InvalidRequestError('Malformed upload id');
    }
    return uploadId;
  }

  private async stagingFile(name: string): Promise<string> {
    return join(await this.realRoot(), RESERVED_SEGMENT, 'staging', name);
  }

  private async tempFile(): Promise<string> {
    const dir = join(await this.realRoot(), RESERVED_SEGMENT, 'tmp');
    await mkdir(dir, { recursive: true });
    return join(dir, randomBytes(12).toString('hex'));
  }

  private async sidecarFile(path: string): Promise<string> {
    return join(await this.realRoot(), RESERVED_SEGMENT, 'meta', `${path}.json`);
  }

  private async readSidecar(path: string): Promise<Sidecar> {
    try {
      const raw = JSON.parse(await readFile(await this.sidecarFile(path), 'utf8')) as Sidecar;
      return { contentType: raw.contentType ?? null, metadata: raw.metadata ?? {} };
    } catch {
      return { contentType: null, metadata: {} };
    }
  }

  private async writeSidecar(path: string, sidecar: Sidecar): Promise<void> {
    const file = await this.sidecarFile(path);
    if (sidecar.contentType === null && Object.keys(sidecar.metadata).length === 0) {
      await rm(file, { force: true });
      return;
    }
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(sidecar));
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
      if (isMissing(error)) throw new BlobNotFoundError(path);
      throw error;
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
    const existing = await this.nearestExisting(parent);
    this.assertInside(realRoot, existing, path, true);
    if (create) {
      await mkdir(parent, { recursive: true });
      this.assertInside(realRoot, await realpath(parent), path, true);
    }
    return candidate;
  }

  private async nearestExisting(dir: string): Promise<string> {
    let current = dir;
    for (;;) {
      try {
        return await realpath(current);
      } catch (error) {
        if (!isMissing(error) && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
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
      if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
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

/** Pieces of a body are gathered up to this size and written with one positional `writev`. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Copy a stream into a file at a position with positional writes: memory stays bounded (one batch of at most
 * 1 MiB) whatever the size, and nothing depends on a WriteStream's close semantics. Request bodies arrive in
 * 16–64 KiB pieces; gathering them into one `writev` per MiB saves an await and a syscall per piece. Returns
 * the number of bytes written.
 */
async function writeAt(handle: FileHandle, body: Readable, start: number): Promise<number> {
  let position = start;
  let batch: Buffer[] = [];
  let batched = 0;
  const flush = async () => {
    if (batched === 0) return;
    const pieces = batch;
    const total = batched;
    batch = [];
    batched = 0;
    let { bytesWritten } = await handle.writev(pieces, position);
    if (bytesWritten < total) {
      // Short write (rare for files): write the rest from one contiguous buffer.
      const rest = Buffer.concat(pieces, total).subarray(bytesWritten);
      let done = 0;
      while (done < rest.length) {
        const result = await handle.write(rest, done, rest.length - done, position + bytesWritten + done);
        done += result.bytesWritten;
      }
      bytesWritten = total;
    }
    position += bytesWritten;
  };
  for await (const piece of body) {
    const buffer = typeof piece === 'string' ? Buffer.from(piece) : (piece as Buffer);
    batch.push(buffer);
    batched += buffer.length;
    if (batched >= WRITE_BATCH_BYTES) await flush();
  }
  await flush();
  return position - start;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function ignoreMissing(error: unknown): null {
  if (isMissing(error) || (error as NodeJS.ErrnoException)?.code === 'ENOTDIR') return null;
  throw error;
}
