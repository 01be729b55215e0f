import { Readable } from 'node:stream';
import {
  BeginUploadRequest,
  BlobInfo,
  CompleteUploadRequest,
  ResumableState,
  StorageProvider,
  WriteChunkOptions,
  WriteChunkResult,
} from '../storage-provider';

/**
 * The resumable half of a provider in its own object (S3, Azure, local, memory): the resumable methods of
 * `StorageProvider`, with the same meaning. `read` is optional: only a backend whose staged bytes can be read
 * back implements it (see `StorageProvider.readStaged`).
 */
export interface ResumableUploads {
  begin(request: BeginUploadRequest): Promise<ResumableState>;
  write(state: ResumableState, offset: number, body: Readable, options: WriteChunkOptions): Promise<WriteChunkResult>;
  complete(state: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo>;
  abort(state: ResumableState): Promise<void>;
  /** `StorageProvider.readStaged`; absent where staged bytes cannot be read back (then `canReadStaged` is false). */
  read?(state: ResumableState, totalSize: number): Promise<Readable>;
}

/**
 * A provider whose resumable uploads live in a `ResumableUploads` object, so the provider class stays the thin
 * facade of whole-blob operations: `beginUpload` … `abortUpload` and `readStaged` hand over to `uploads`.
 */
export abstract class DelegatingStorageProvider extends StorageProvider {
  /** Where the resumable methods go (set in the subclass constructor). */
  protected abstract readonly uploads: ResumableUploads;

  async beginUpload(request: BeginUploadRequest): Promise<ResumableState> {
    return this.uploads.begin(request);
  }

  async writeChunk(
    state: ResumableState,
    offset: number,
    body: Readable,
    options: WriteChunkOptions = {},
  ): Promise<WriteChunkResult> {
    return this.uploads.write(state, offset, body, options);
  }

  async completeUpload(state: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    return this.uploads.complete(state, request);
  }

  async abortUpload(state: ResumableState): Promise<void> {
    return this.uploads.abort(state);
  }

  /** `uploads.read` when it has one, else the base class's `NotSupportedError` (S3, Azure). */
  override async readStaged(state: ResumableState, totalSize: number): Promise<Readable> {
    if (!this.uploads.read) return super.readStaged(state, totalSize);
    return this.uploads.read(state, totalSize);
  }

  /** Derived from `uploads` so the flag and `readStaged` can never disagree. */
  override get canReadStaged(): boolean {
    return typeof this.uploads.read === 'function';
  }
}
