import { FileHandle, open, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobNotFoundError, StorageUnavailableError } from '../../errors/vali-blob.errors';
import { RESERVED_SEGMENT, validateBlobPath } from '../blob-path';
import { requireInfo } from '../common/require-info';
import { normalizeMetadata, resolveRange } from '../storage-helpers';
import { DelegatingStorageProvider } from '../common/resumable-uploads';
import type {
  BlobInfo,
  BlobReadResult,
  ByteRange,
  ListOptions,
  ListPage,
  PutOptions,
  ResumableState,
} from '../storage-provider';
import { errnoOf, ignoreMissing, mapReadError, mapWriteError } from './local-fs-errors';
import { writeAt } from './local-file-io';
import { listFiles } from './local-listing';
import { LocalRoot } from './local-root';
import { LocalSidecars, Sidecar } from './local-sidecar';
import { LocalStaging } from './local-staging';
import { LocalResumableUploads } from './local-resumable.uploads';

/**
 * Options of the local disk provider.
 * @publicApi
 */
export interface LocalStorageOptions {
  /**
   * Directory that holds every blob; created when missing.
   * @default './data/blobs'
   */
  root: string;
  /**
   * `fsync` chunk data before the offset advances (turning it off trades durability for speed).
   * @default true
   */
  fsync?: boolean;
}

/**
 * Blob storage on the local file system.
 *
 * - Every path is validated and then resolved against the root with symlinks followed; anything that would land
 *   outside the root (case-sensitive comparison of real paths) is refused with `INVALID_PATH` (see `LocalRoot`).
 * - Resumable uploads are staged under `<root>/.valiblob/staging/<uploadId>.parts/`, a namespace users cannot
 *   address, in per-instance segment files fenced at the byte level (see `LocalStaging`); bytes are `fsync`ed
 *   before they are reported as written. Complete publishes with one atomic `rename` (or `link` when
 *   `overwrite: false`, so an existing blob is never replaced). `readStaged` streams the committed staged bytes in
 *   place, one segment file (one descriptor) at a time (see `openStagedRead`).
 * - Whole-blob writes go to a temp file first and are renamed into place, so readers never see half a blob.
 * - Content type and metadata live in sidecars under `<root>/.valiblob/meta/` named by a hash of the path.
 * @publicApi
 */
export class LocalStorageProvider extends DelegatingStorageProvider {
  private readonly root: LocalRoot;
  private readonly fsyncEnabled: boolean;
  private readonly sidecars: LocalSidecars;
  private readonly staging: LocalStaging;
  protected readonly uploads: LocalResumableUploads;

  constructor(options: LocalStorageOptions) {
    super();
    this.root = new LocalRoot(options.root);
    this.fsyncEnabled = options.fsync !== false;
    this.sidecars = new LocalSidecars(async () => join(await this.root.real(), RESERVED_SEGMENT, 'meta'));
    const stagingRoot = async () => join(await this.root.real(), RESERVED_SEGMENT, 'staging');
    this.staging = new LocalStaging(stagingRoot, this.fsyncEnabled);
    this.uploads = new LocalResumableUploads(this.root, this.staging, this.sidecars, this);
  }

  /** The resolved root directory (for logs and tests). */
  get rootDirectory(): string {
    return this.root.directory;
  }

  /** Random id naming this instance's staging segments (for tests and diagnostics). */
  get instanceId(): string {
    return this.staging.instanceId;
  }

  async put(path: string, body: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    const target = await this.root.resolveForWrite(path);
    const temp = await this.root.tempFile();
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
    return requireInfo(this, path);
  }

  /**
   * Every check (path, existence, type, range) runs on an open descriptor before the stream exists, and the
   * descriptor is closed on any failure, so a failing read never leaves one open. Size and range come from that
   * descriptor, so they describe exactly the bytes served even if the blob is replaced meanwhile.
   */
  async get(path: string, range?: ByteRange): Promise<BlobReadResult> {
    const file = await this.root.resolveForRead(path);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      throw mapReadError(error, path);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new BlobNotFoundError(path);
      const info = infoOf(path, st, await this.sidecars.read(path));
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
      file = await this.root.resolveForRead(path);
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
    return infoOf(path, st, await this.sidecars.read(path));
  }

  async delete(path: string): Promise<boolean> {
    const file = await this.root.resolveForWrite(path, false);
    const st = await stat(file).catch(ignoreMissing);
    if (!st || !st.isFile()) return false;
    await unlink(file).catch(ignoreMissing);
    await this.sidecars.remove(path);
    return true;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    return listFiles(this.root, this, prefix, options);
  }

  async copy(from: string, to: string): Promise<BlobInfo> {
    const sidecar = await this.sidecars.read(from);
    const { stream } = await this.get(from);
    return this.put(to, stream, sidecar);
  }

  async move(from: string, to: string): Promise<BlobInfo> {
    const source = await this.root.resolveForRead(from);
    if (!(await this.stat(from))) throw new BlobNotFoundError(from);
    const target = await this.root.resolveForWrite(to);
    const sidecar = await this.sidecars.read(from);
    await this.sidecars.write(to, sidecar);
    await rename(source, target).catch((error) => {
      throw mapWriteError(error, to);
    });
    if (from !== to) await this.sidecars.remove(from);
    return requireInfo(this, to);
  }

  /** See `LocalRoot.assertCreatable`: no blob below a blob, none replacing a folder of blobs. */
  override async assertCreatable(path: string): Promise<void> {
    return this.root.assertCreatable(path);
  }

  async ping(): Promise<void> {
    try {
      const temp = await this.root.tempFile();
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
}

/** `BlobInfo` of a file: size and mtime from the file (the ETag is made of both), the rest from its sidecar. */
function infoOf(path: string, st: { size: number; mtimeMs: number }, sidecar: Sidecar): BlobInfo {
  return {
    path,
    size: st.size,
    contentType: sidecar.contentType,
    lastModified: Math.floor(st.mtimeMs),
    etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
    metadata: sidecar.metadata,
  };
}
