import { link, lstat, rename, rm, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BlobExistsError, PathConflictError } from '../../errors/vali-blob.errors';
import { BlobStat, requireInfo } from '../common/require-info';
import type { ResumableUploads } from '../common/resumable-uploads';
import { normalizeMetadata } from '../storage-helpers';
import type {
  BeginUploadRequest,
  BlobInfo,
  CompleteUploadRequest,
  ResumableState,
  WriteChunkOptions,
} from '../storage-provider';
import { errnoOf, ignoreMissing, mapWriteError } from './local-fs-errors';
import type { LocalRoot } from './local-root';
import type { LocalSidecars, Sidecar } from './local-sidecar';
import { openStagedRead } from './local-staged.reader';
import { LocalStaging, StagingMissingError } from './local-staging';

/**
 * The resumable uploads of the local provider: chunks are staged by `LocalStaging` (fenced segment files);
 * complete assembles the staged segments into one file, publishes it with one atomic `rename` (or `link` when
 * `overwrite: false`, so an existing blob is never replaced), and only then discards the staging. Complete is
 * idempotent: one whose staging is gone but whose blob has the expected size returns that blob.
 */
export class LocalResumableUploads implements ResumableUploads {
  constructor(
    private readonly root: LocalRoot,
    private readonly staging: LocalStaging,
    private readonly sidecars: LocalSidecars,
    /** Where the published blob's info comes from (the provider's `stat`). */
    private readonly blobs: BlobStat,
  ) {}

  /** Create the staging directory of a new upload (see `LocalStaging.begin`). */
  async begin(request: BeginUploadRequest): Promise<ResumableState> {
    return this.staging.begin(request.uploadId);
  }

  /** Stage a chunk (see `LocalStaging.write`). */
  async write(state: ResumableState, offset: number, body: Readable, options: WriteChunkOptions) {
    return this.staging.write(state, offset, body, options);
  }

  /** Publish the staged bytes of `state` at `request.path`. */
  async complete(state: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    const target = await this.root.resolveForWrite(request.path).catch((error) => {
      throw mapWriteError(error, request.path);
    });
    const sidecar: Sidecar = { contentType: request.contentType, metadata: normalizeMetadata(request.metadata) };
    let assembled;
    try {
      assembled = await this.staging.assemble(state, request.totalSize, () => this.root.tempFile());
    } catch (error) {
      if (!(error instanceof StagingMissingError)) throw error;
      // A previous complete may have published the data and died before the session was updated.
      const existing = await this.blobs.stat(request.path);
      if (!existing || existing.size !== request.totalSize) throw error;
      await this.sidecars.write(request.path, sidecar);
      return requireInfo(this.blobs, request.path);
    }
    try {
      if (request.overwrite === false) {
        await publishNoReplace(assembled.file, target, request.path);
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
    return requireInfo(this.blobs, request.path);
  }

  /**
   * A fresh stream of the committed bytes [0, totalSize), read in place from the segment files (never copied or
   * buffered whole). Refused with `StorageUnavailableError` when the state does not cover `totalSize` or a file is
   * shorter than its committed range, and with `StagingMissingError` when the staging is gone.
   */
  async read(state: ResumableState, totalSize: number): Promise<Readable> {
    return openStagedRead(await this.staging.stagedParts(state, totalSize));
  }

  /** Delete every staged segment of the upload. */
  async abort(state: ResumableState): Promise<void> {
    await this.staging.discard(state);
  }
}

/**
 * Publish `file` at `target` only if nothing is there: `link` fails with EEXIST instead of replacing (atomic,
 * no check-then-act), then the staging name is dropped. A target that is already the same inode is a previous
 * attempt of this very publish that died before the unlink.
 */
async function publishNoReplace(file: string, target: string, path: string): Promise<void> {
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
