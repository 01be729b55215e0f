import { Readable } from 'node:stream';
import { InvalidRequestError, SizeExceededError, StorageUnavailableError } from '../../errors/vali-blob.errors';
import { validateBlobPath } from '../blob-path';
import { assertChunkOffset, checkBeforeReading } from '../common/chunk-start';
import { encodeHeaderMetadata } from '../common/header-metadata';
import type { ResumableUploads } from '../common/resumable-uploads';
import { normalizeMetadata } from '../storage-helpers';
import type {
  BeginUploadRequest,
  BlobInfo,
  CompleteUploadRequest,
  ResumableState,
  WriteChunkOptions,
} from '../storage-provider';
import type { S3Bucket } from './s3-bucket';
import { choosePartSize, S3_MAX_PART_SIZE } from './s3-part-size';
import { discardSpooled, SpooledPart, spoolParts } from './s3-part-spooler';
import { S3SegmentCopier } from './s3-segment.copier';
import type { S3Settings } from './s3-storage.options';
import { completeS3Upload } from './s3-upload.completer';
import {
  checkUploadId,
  committedBytes,
  deleteStaging,
  isSealed,
  newStagingKey,
  readState,
  S3UploadState,
  SegmentRecord,
  TailRecord,
} from './s3-upload-state';

/**
 * The resumable uploads of the S3 provider (`beginUpload` … `abortUpload`). Fencing through the manifest: a write
 * never puts its own bytes into a part of the multipart upload. It stores them as segment objects under fresh
 * random keys, and only segments of the state it was handed (a committed manifest, persisted by the engine's
 * fenced `advance`) are copied into parts, as part number `index + 1`. Committed bytes at an offset never change,
 * so whoever copies part N copies the same bytes; a late writer holding an older state can only add objects
 * nobody references.
 */
export class S3ResumableUploads implements ResumableUploads {
  private readonly copier: S3SegmentCopier;

  constructor(
    private readonly bucket: S3Bucket,
    private readonly settings: S3Settings,
  ) {
    this.copier = new S3SegmentCopier(bucket, settings.limiter);
  }

  /** Create the multipart upload with a part size fixed for the whole upload; the manifest starts empty. */
  async begin(request: BeginUploadRequest): Promise<S3UploadState> {
    validateBlobPath(request.path);
    const uploadId = checkUploadId(request.uploadId);
    const { maxParts } = this.settings;
    let partSize: number;
    try {
      partSize = choosePartSize(request.totalSize ?? this.settings.deferredMaxSize, this.settings.partSize, maxParts);
    } catch {
      throw new SizeExceededError(`Upload is too large for ${maxParts} parts`, maxParts * S3_MAX_PART_SIZE);
    }
    const multipartId = await this.bucket.createMultipart(request.path, {
      contentType: request.contentType ?? undefined,
      metadata: encodeHeaderMetadata(normalizeMetadata(request.metadata)),
    });
    return {
      v: 2,
      uploadId,
      key: request.path,
      multipartId,
      partSize,
      totalSize: request.totalSize,
      segments: [],
      tail: null,
      staleTail: null,
    };
  }

  /** Store a chunk as new segment objects (and a tail); returns the next manifest. */
  async write(raw: ResumableState, offset: number, body: Readable, options: WriteChunkOptions) {
    const state = checkBeforeReading(body, () => {
      const read = readState(raw);
      assertChunkOffset(offset, committedBytes(read));
      if (isSealed(read)) {
        throw new InvalidRequestError('The final part of this upload is already stored', 'INVALID_OFFSET');
      }
      return read;
    });
    const { bucket, settings } = this;
    // The state we were given is persisted, so the generation before it can go (best effort).
    if (state.staleTail) void bucket.deleteKeys([state.staleTail]).catch(() => undefined);
    // Committed segments become parts while this chunk is read (server-side copies, no bytes through here).
    const promoting = this.copier.promote(state.key, state.multipartId, state.segments, false);
    promoting.catch(() => undefined);

    const firstIndex = state.segments.length;
    const sources: AsyncIterable<unknown>[] = [];
    if (state.tail) sources.push(await this.copier.openObject(state.tail.key, 'pending tail'));
    sources.push(body);
    const added: SegmentRecord[] = [];
    const spooled = await spoolParts({
      sources,
      partSize: state.partSize,
      directory: settings.tempDirectory,
      limiter: settings.limiter,
      onFullPart: async (part, index) => {
        if (firstIndex + index + 1 > settings.maxParts) {
          const message = `Upload needs more than ${settings.maxParts} parts of ${state.partSize} bytes`;
          throw new SizeExceededError(message, settings.maxParts * state.partSize);
        }
        added[index] = { key: await this.putStaging(state.uploadId, 'p', part), size: part.size, etag: null };
      },
    }).catch(async (error) => {
      await promoting.catch(() => undefined);
      throw error;
    });
    const written = spooled.bytesPerSource[spooled.bytesPerSource.length - 1];
    const remainder = spooled.remainder;
    try {
      if (state.tail && spooled.bytesPerSource[0] !== state.tail.size) {
        throw new StorageUnavailableError('The pending tail object of this upload has the wrong size');
      }
      // Nothing of this chunk is recorded yet; segments already stored are simply never referenced.
      if (options.beforeCommit) await options.beforeCommit(written);
      await spooled.uploads;
      const isFinal =
        state.totalSize !== null
          ? offset + written === state.totalSize
          : options.isFinal === true && (options.expectedLength == null || options.expectedLength === written);
      let tail: TailRecord | null = null;
      if (remainder && remainder.size > 0) {
        if (isFinal) {
          // A short last part is allowed: store it as the last segment, nothing stays pending.
          added.push({ key: await this.putStaging(state.uploadId, 'p', remainder), size: remainder.size, etag: null });
        } else if (written === 0 && state.tail) {
          tail = state.tail;
        } else {
          tail = { key: await this.putStaging(state.uploadId, 't', remainder), size: remainder.size };
        }
      }
      const segments = [...(await promoting), ...added];
      const staleTail = state.tail && state.tail.key !== tail?.key ? state.tail.key : null;
      const next: S3UploadState = { ...state, v: 2, segments, tail, staleTail };
      return { state: next, bytesWritten: written };
    } catch (error) {
      // Let every upload of this attempt land before reporting: a retry must never be overtaken by them.
      await spooled.uploads.catch(() => undefined);
      await promoting.catch(() => undefined);
      throw error;
    } finally {
      await discardSpooled(remainder);
    }
  }

  /** Publish the committed manifest at `request.path` (see `completeS3Upload`). */
  async complete(raw: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    validateBlobPath(request.path);
    return completeS3Upload(this.bucket, this.copier, raw, request);
  }

  /** Delete every staging object and abort the multipart upload. */
  async abort(raw: ResumableState): Promise<void> {
    const state = readState(raw);
    await deleteStaging(this.bucket, state.uploadId);
    await this.bucket.abortMultipart(state.key, state.multipartId);
  }

  /** Store a spooled file under a fresh staging key; returns the key. */
  private async putStaging(uploadId: string, kind: 'p' | 't', part: SpooledPart): Promise<string> {
    const key = newStagingKey(uploadId, kind);
    await this.bucket.putFile(key, part);
    return key;
  }
}
