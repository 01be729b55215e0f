import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { FileHandle, mkdir, open, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StorageUnavailableError } from '../../errors/vali-blob.errors';
import { ResumableState, WriteChunkOptions, WriteChunkResult } from '../storage-provider';
import { isMissing } from './local-fs-errors';
import { copyRange, fsyncDirectory, writeAt } from './local-file-io';
import {
  committedLength,
  isOwnSegment,
  LEGACY_SEGMENT,
  LocalSegment,
  LocalUploadState,
  parseLocalState,
  segmentName,
  uploadIdOf,
  withWrite,
} from './local-staging.state';

/** Staged bytes ready to publish: `file` holds exactly the upload, `release` must run whatever happens next. */
export interface AssembledUpload {
  file: string;
  /** True when `file` is a fresh copy (the concatenation path); false when it is this instance's own segment. */
  copied: boolean;
  release(): void;
}

/** Thrown by `assemble` when the staged data is gone (a previous complete may have published it already). */
export class StagingMissingError extends StorageUnavailableError {
  constructor() {
    super('Staging data of this upload is missing');
  }
}

/**
 * Resumable staging of the local provider, fenced at the byte level.
 *
 * Each writer writes only into segment files of its own provider instance, under
 * `<root>/.valiblob/staging/<uploadId>.parts/`; the session's committed state lists which byte range of which
 * segment belongs to the upload. Two rules make a write unable to touch any committed byte, whatever its lease:
 * - a write appends to a segment only when that segment is its own instance's, is the last committed one, no
 *   other write of this instance is on it, and the file ends exactly at the committed end (so a stale writer whose
 *   state is behind finds a longer file and starts a new segment); otherwise it creates a new file (`O_EXCL`).
 *   Hence no write ever overwrites an existing byte.
 * - a failed write truncates only its own segment back to where it started (or deletes the file it created).
 * A writer that lost its lease may still write into its own files, but those bytes are never in a committed state.
 */
export class LocalStaging {
  /** Random per provider instance: names this instance's segments. */
  readonly instanceId = randomBytes(8).toString('hex');
  private sequence = 0;
  /** Segment files this instance is writing or publishing right now. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly stagingRoot: () => Promise<string>,
    private readonly fsync: boolean,
  ) {}

  /** Create the staging directory of a new upload; its state has no segment yet. */
  async begin(uploadId: string): Promise<LocalUploadState> {
    const state: LocalUploadState = { upload: uploadIdOf({ upload: uploadId }), segments: [] };
    await mkdir(await this.dirOf(state.upload), { recursive: true });
    return state;
  }

  /** Store `body` at the committed offset `offset`; see the class comment for the fencing rules. */
  async write(
    rawState: ResumableState,
    offset: number,
    body: Readable,
    options: WriteChunkOptions,
  ): Promise<WriteChunkResult> {
    let state: LocalUploadState;
    let dir: string;
    try {
      state = parseLocalState(rawState, offset);
      if (committedLength(state) !== offset) {
        throw new StorageUnavailableError('Staging state does not match the upload offset');
      }
      dir = await this.dirOf(state.upload);
    } catch (error) {
      body.resume();
      throw error;
    }
    const legacy = !Array.isArray(rawState.segments);
    const target = await this.openForWrite(state, dir, offset, legacy).catch((error) => {
      body.resume();
      throw error;
    });
    const { handle, file, path, position, fresh } = target;
    let written = 0;
    try {
      written = await writeAt(handle, body, position);
      if (options.beforeCommit) await options.beforeCommit(written);
      if (this.fsync) await handle.datasync();
      // A new file's directory entry must be durable before the offset advances.
      if (fresh && this.fsync) await fsyncDirectory(dir);
    } catch (error) {
      // Discard only what this call wrote: its own segment back to where it started writing.
      if (fresh) await unlink(path).catch(() => undefined);
      else await handle.truncate(position).catch(() => undefined);
      throw error;
    } finally {
      await handle.close().catch(() => undefined);
      this.busy.delete(path);
    }
    if (written === 0) {
      if (fresh) await unlink(path).catch(() => undefined);
      return { state: { ...state }, bytesWritten: 0 };
    }
    return { state: { ...withWrite(state, file, offset, offset + written) }, bytesWritten: written };
  }

  /**
   * A file holding exactly the `totalSize` committed bytes. Fast path: the single segment is this instance's and
   * idle: truncate its uncommitted tail and hand it over to be renamed or linked (no copy). Otherwise copy every
   * committed range into a fresh file under `tempDir`, never renaming a file another process may hold open.
   */
  async assemble(
    rawState: ResumableState,
    totalSize: number,
    tempFile: () => Promise<string>,
  ): Promise<AssembledUpload> {
    const state = parseLocalState(rawState, totalSize);
    if (committedLength(state) !== totalSize) {
      throw new StorageUnavailableError('Staged data does not match the upload size');
    }
    const dir = await this.dirOf(state.upload);
    const only = state.segments.length === 1 ? state.segments[0] : undefined;
    if (only && isOwnSegment(only.file, this.instanceId)) {
      const path = join(dir, only.file);
      if (!this.busy.has(path)) {
        this.busy.add(path);
        try {
          await this.trimOwnSegment(path, totalSize);
        } catch (error) {
          this.busy.delete(path);
          throw error;
        }
        return { file: path, copied: false, release: () => this.busy.delete(path) };
      }
    }
    const temp = await tempFile();
    await this.concatenate(state, dir, temp);
    return { file: temp, copied: true, release: () => undefined };
  }

  /**
   * The files holding the committed bytes [0, totalSize) of an upload, in order: each file's bytes [0, length)
   * are the next `length` bytes (segment files start at their segment's offset). Nothing is opened here.
   */
  async stagedParts(rawState: ResumableState, totalSize: number): Promise<{ path: string; length: number }[]> {
    const state = parseLocalState(rawState, totalSize);
    if (committedLength(state) !== totalSize) {
      throw new StorageUnavailableError('Staged data does not match the upload size');
    }
    const dir = await this.dirOf(state.upload);
    // With no segment there is no file to miss: only the directory tells an empty upload from an aborted one.
    if (state.segments.length === 0 && Array.isArray(rawState.segments)) {
      await stat(dir).catch((error) => {
        throw isMissing(error) ? new StagingMissingError() : error;
      });
    }
    return state.segments.map((s) => ({ path: this.segmentPathIn(dir, state.upload, s), length: s.end - s.start }));
  }

  /** Remove every staged byte of an upload (all segments of every instance, and a legacy file). Idempotent. */
  async discard(rawState: ResumableState): Promise<void> {
    const upload = uploadIdOf(rawState);
    await rm(await this.dirOf(upload), { recursive: true, force: true });
    await rm(join(await this.stagingRoot(), upload), { force: true });
  }

  /** Path of the last committed segment, or of the staging directory when there is none (tests, diagnostics). */
  async pathOf(rawState: ResumableState): Promise<string> {
    const upload = uploadIdOf(rawState);
    if (!Array.isArray(rawState.segments)) return join(await this.stagingRoot(), upload);
    const state = parseLocalState(rawState, 0);
    const last = state.segments[state.segments.length - 1];
    return last ? this.segmentPath(state.upload, last) : this.dirOf(upload);
  }

  private async openForWrite(state: LocalUploadState, dir: string, offset: number, legacy: boolean) {
    const last = state.segments[state.segments.length - 1];
    const path = last && isOwnSegment(last.file, this.instanceId) ? join(dir, last.file) : undefined;
    if (last && path && !this.busy.has(path)) {
      this.busy.add(path);
      try {
        const handle = await open(path, fsConstants.O_RDWR);
        const { size } = await handle.stat().catch(async (error) => {
          await handle.close();
          throw error;
        });
        // A longer file means a write of this instance ran on a state ahead of ours: never write over it.
        if (size === offset - last.start) return { handle, file: last.file, path, position: size, fresh: false };
        await handle.close();
      } catch (error) {
        this.busy.delete(path);
        if (isMissing(error)) throw new StorageUnavailableError('Staging data of this upload is missing');
        throw error;
      }
      this.busy.delete(path);
    }
    return this.createSegment(dir, offset, legacy);
  }

  private async createSegment(dir: string, offset: number, legacy: boolean) {
    const file = segmentName(this.instanceId, offset, ++this.sequence);
    const path = join(dir, file);
    this.busy.add(path);
    try {
      const handle = await open(path, 'wx').catch(async (error) => {
        // A legacy upload has no segment directory yet; any other upload lost it to abort or complete, and
        // recreating it would leave an orphan.
        if (!isMissing(error) || !legacy) throw error;
        await mkdir(dir, { recursive: true });
        return open(path, 'wx');
      });
      return { handle, file, path, position: 0, fresh: true };
    } catch (error) {
      this.busy.delete(path);
      if (isMissing(error)) throw new StorageUnavailableError('Staging data of this upload is missing');
      throw error;
    }
  }

  private async trimOwnSegment(path: string, totalSize: number): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(path, fsConstants.O_RDWR);
    } catch (error) {
      if (isMissing(error)) throw new StagingMissingError();
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (size < totalSize) throw new StorageUnavailableError('Staging data is shorter than the upload');
      if (size > totalSize) {
        // Bytes past the committed end were written by a request whose offset never advanced.
        await handle.truncate(totalSize);
        if (this.fsync) await handle.datasync();
      }
    } finally {
      await handle.close();
    }
  }

  private async concatenate(state: LocalUploadState, dir: string, temp: string): Promise<void> {
    const out = await open(temp, 'wx');
    try {
      for (const segment of state.segments) {
        const source = await open(this.segmentPathIn(dir, state.upload, segment), 'r').catch((error) => {
          throw isMissing(error) ? new StagingMissingError() : error;
        });
        try {
          // Segment files start at their segment's offset (the legacy file at 0, which is its start too).
          await copyRange(source, 0, segment.end - segment.start, out, segment.start);
        } finally {
          await source.close();
        }
      }
      if (this.fsync) await out.datasync();
      await out.close();
    } catch (error) {
      await out.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw error;
    }
  }

  private async segmentPath(upload: string, segment: LocalSegment): Promise<string> {
    return this.segmentPathIn(await this.dirOf(upload), upload, segment);
  }

  private segmentPathIn(dir: string, upload: string, segment: LocalSegment): string {
    // The legacy file sits next to the segment directories: `<staging>/<uploadId>`.
    return segment.file === LEGACY_SEGMENT ? join(dir, '..', upload) : join(dir, segment.file);
  }

  private async dirOf(upload: string): Promise<string> {
    // `.parts` cannot collide with a legacy staging file: upload ids never contain a dot.
    return join(await this.stagingRoot(), `${upload}.parts`);
  }
}
