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
 * The resumable half of a provider in its own object (S3, Azure, local): the four resumable methods of
 * `StorageProvider`, with the same meaning.
 */
export interface ResumableUploads {
  begin(request: BeginUploadRequest): Promise<ResumableState>;
  write(state: ResumableState, offset: number, body: Readable, options: WriteChunkOptions): Promise<WriteChunkResult>;
  complete(state: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo>;
  abort(state: ResumableState): Promise<void>;
}

/**
 * A provider whose resumable uploads live in a `ResumableUploads` object, so the provider class stays the thin
 * facade of whole-blob operations: `beginUpload` … `abortUpload` hand over to `uploads`.
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
}
