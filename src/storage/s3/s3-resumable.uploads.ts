import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  BlobExistsError,
  InvalidRequestError,
  NotSupportedError,
  SizeExceededError,
  StorageUnavailableError,
  ValiBlobError,
} from '../../errors/vali-blob.errors';
import { normalizeMetadata } from '../storage-helpers';
import {
  BlobInfo,
  CompleteUploadRequest,
  ResumableState,
  WriteChunkOptions,
  WriteChunkResult,
} from '../storage-provider';
import { encodeHeaderMetadata } from '../common/header-metadata';
import { Semaphore } from '../common/semaphore';
import { isNoSuchUpload, isPreconditionFailed, toStorageError } from './s3-errors';
import { MissingStagingError, S3SegmentCopier } from './s3-segment.copier';
import { discardSpooled, SpooledPart, spoolParts } from './s3-part-spooler';
import {
  committedBytes,
  isSealed,
  multipartEtag,
  newStagingKey,
  readState,
  S3UploadState,
  SegmentRecord,
  TailRecord,
} from './s3-upload-state';

/** What the resumable path needs from `S3StorageProvider`. */
export interface S3UploadContext {
  client: S3Client;
  bucket: string;
  maxParts: number;
  limiter: Semaphore;
  tempDirectory: string;
  /** Run one SDK call, mapping failures to typed errors. */
  call<T>(action: string, run: () => Promise<T>): Promise<T>;
  stat(path: string): Promise<BlobInfo | null>;
  abortMultipart(key: string, multipartId: string): Promise<void>;
  deleteKeys(keys: string[]): Promise<void>;
  /** Delete every staging object of an upload (all generations, including unrecorded attempts). */
  deleteStaging(uploadId: string): Promise<void>;
}

/**
 * `writeChunk` / `completeUpload` of the S3 provider. Fencing through the manifest: a write never puts its own
 * bytes into a part of the multipart upload. It stores them as segment objects under fresh random keys, and only
 * segments of the state it was handed (a committed manifest, persisted by the engine's fenced `advance`) are
 * copied into parts, as part number `index + 1`. Committed bytes at an offset never change, so whoever copies
 * part N copies the same bytes; a late writer holding an older state can only add objects nobody references.
 */
export class S3ResumableUploads {
  private readonly copier: S3SegmentCopier;

  constructor(private readonly ctx: S3UploadContext) {
    this.copier = new S3SegmentCopier(ctx);
  }

  async write(
    raw: ResumableState,
    offset: number,
    body: Readable,
    options: WriteChunkOptions,
  ): Promise<WriteChunkResult> {
    let state: S3UploadState;
    try {
      state = readState(raw);
      const committed = committedBytes(state);
      if (offset !== committed) {
        const message = `Chunk offset ${offset} does not match the stored ${committed} bytes`;
        throw new InvalidRequestError(message, 'INVALID_OFFSET');
      }
      if (isSealed(state)) {
        throw new InvalidRequestError('The final part of this upload is already stored', 'INVALID_OFFSET');
      }
    } catch (error) {
      body.resume();
      throw error;
    }
    const { ctx } = this;
    // The state we were given is persisted, so the generation before it can go (best effort).
    if (state.staleTail) void ctx.deleteKeys([state.staleTail]).catch(() => undefined);
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
      directory: ctx.tempDirectory,
      limiter: ctx.limiter,
      onFullPart: async (part, index) => {
        if (firstIndex + index + 1 > ctx.maxParts) {
          const message = `Upload needs more than ${ctx.maxParts} parts of ${state.partSize} bytes`;
          throw new SizeExceededError(message, ctx.maxParts * state.partSize);
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

  async complete(raw: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    const state = readState(raw);
    const { ctx } = this;
    const target = request.path;
    const moved = target !== state.key;
    let segments = [...state.segments];
    // The committed tail becomes the (short) last part.
    if (state.tail) segments.push({ key: state.tail.key, size: state.tail.size, etag: null });
    const stored = segments.reduce((sum, s) => sum + s.size, 0);
    if (stored !== request.totalSize) {
      throw new StorageUnavailableError(`S3 holds ${stored} bytes of this upload, expected ${request.totalSize}`);
    }
    if (moved && segments.some((s) => s.key === null)) {
      const feature = 'completing an upload begun before segments existed at another path';
      throw new NotSupportedError(feature, 'the S3 storage provider');
    }
    const ifNoneMatch = request.overwrite === false ? '*' : undefined;
    let multipartId = state.multipartId;
    try {
      if (segments.length === 0) {
        // A multipart upload needs at least one part; an empty object is one PutObject.
        await ctx.client.send(
          new PutObjectCommand({
            Bucket: ctx.bucket,
            Key: target,
            Body: Buffer.alloc(0),
            ContentLength: 0,
            ContentType: request.contentType ?? undefined,
            Metadata: encodeHeaderMetadata(normalizeMetadata(request.metadata)),
            IfNoneMatch: ifNoneMatch,
          }),
        );
      } else {
        if (moved) {
          // Conflict policy `rename`: a new multipart upload at the new key, built from the same segments.
          const created = await ctx.call('CreateMultipartUpload', () =>
            ctx.client.send(
              new CreateMultipartUploadCommand({
                Bucket: ctx.bucket,
                Key: target,
                ContentType: request.contentType ?? undefined,
                Metadata: encodeHeaderMetadata(normalizeMetadata(request.metadata)),
              }),
            ),
          );
          multipartId = created.UploadId!;
        }
        segments = await this.copier.promote(target, multipartId, segments, moved);
        const parts = segments.map((s, i) => ({ PartNumber: i + 1, ETag: s.etag! }));
        await ctx.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: ctx.bucket,
            Key: target,
            UploadId: multipartId,
            MultipartUpload: { Parts: parts },
            IfNoneMatch: ifNoneMatch,
          }),
        );
      }
    } catch (error) {
      const cause = error instanceof ValiBlobError && error.cause !== undefined ? error.cause : error;
      // A previous complete may have succeeded and died before the session said so: then the object is ours.
      const existing = await ctx.stat(target).catch(() => null);
      const sameSize = existing !== null && existing.size === request.totalSize && segments.length > 0;
      const expected = segments.every((s) => s.etag) ? multipartEtag(segments.map((s) => s.etag!)) : null;
      // Staging objects and the multipart upload disappear only when a complete went through.
      const gone = error instanceof MissingStagingError || isNoSuchUpload(cause);
      const ours = sameSize && (gone || (expected !== null && existing.etag === expected));
      if (!ours) {
        // Nothing is discarded on a refused condition: the caller may retry at another path or allow overwrite.
        if (isPreconditionFailed(cause)) throw new BlobExistsError(target);
        throw error instanceof ValiBlobError ? error : toStorageError(error, 'CompleteMultipartUpload');
      }
    }
    await ctx.deleteStaging(state.uploadId).catch(() => undefined);
    // The upload at the begun key (rename, or an empty object) is not needed any more.
    if (moved || segments.length === 0) await ctx.abortMultipart(state.key, state.multipartId).catch(() => undefined);
    const info = await ctx.stat(target);
    if (!info) throw new StorageUnavailableError(`S3 does not show the completed object ${target}`);
    return info;
  }

  /** Store a spooled file under a fresh staging key; returns the key. */
  private async putStaging(uploadId: string, kind: 'p' | 't', part: SpooledPart): Promise<string> {
    const key = newStagingKey(uploadId, kind);
    await this.ctx.call('PutObject', () =>
      this.ctx.client.send(
        new PutObjectCommand({
          Bucket: this.ctx.bucket,
          Key: key,
          Body: createReadStream(part.file),
          ContentLength: part.size,
        }),
      ),
    );
    return key;
  }
}
