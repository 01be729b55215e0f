import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
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
import { BlobInfo, CompleteUploadRequest, ResumableState, WriteChunkOptions, WriteChunkResult } from '../storage-provider';
import { encodeHeaderMetadata } from '../common/header-metadata';
import { Semaphore } from '../common/semaphore';
import { isNoSuchUpload, isNotImplemented, isPreconditionFailed, isS3NotFound, toStorageError } from './s3-errors';
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
  private copyPartUnsupported = false;

  constructor(private readonly ctx: S3UploadContext) {}

  async write(raw: ResumableState, offset: number, body: Readable, options: WriteChunkOptions): Promise<WriteChunkResult> {
    let state: S3UploadState;
    try {
      state = readState(raw);
      const committed = committedBytes(state);
      if (offset !== committed) {
        throw new InvalidRequestError(`Chunk offset ${offset} does not match the stored ${committed} bytes`, 'INVALID_OFFSET');
      }
      if (isSealed(state)) throw new InvalidRequestError('The final part of this upload is already stored', 'INVALID_OFFSET');
    } catch (error) {
      body.resume();
      throw error;
    }
    const { ctx } = this;
    // The state we were given is persisted, so the generation before it can go (best effort).
    if (state.staleTail) void ctx.deleteKeys([state.staleTail]).catch(() => undefined);
    // Committed segments become parts while this chunk is read (server-side copies, no bytes through here).
    const promoting = this.promote(state.key, state.multipartId, state.segments, false);
    promoting.catch(() => undefined);

    const firstIndex = state.segments.length;
    const sources: AsyncIterable<unknown>[] = [];
    if (state.tail) sources.push(await this.openObject(state.tail.key, 'pending tail'));
    sources.push(body);
    const added: SegmentRecord[] = [];
    const spooled = await spoolParts({
      sources,
      partSize: state.partSize,
      directory: ctx.tempDirectory,
      limiter: ctx.limiter,
      onFullPart: async (part, index) => {
        if (firstIndex + index + 1 > ctx.maxParts) {
          throw new SizeExceededError(`Upload needs more than ${ctx.maxParts} parts of ${state.partSize} bytes`, ctx.maxParts * state.partSize);
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
      throw new NotSupportedError('completing an upload begun before segments existed at another path', 'the S3 storage provider');
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
        segments = await this.promote(target, multipartId, segments, moved);
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

  /**
   * Copy segments into parts `index + 1` of a multipart upload: the ones without an ETag, or all with `all`.
   * UploadPartCopy runs server-side; backends without it (s3rver) get the bytes streamed through (bounded).
   */
  private async promote(key: string, multipartId: string, segments: SegmentRecord[], all: boolean): Promise<SegmentRecord[]> {
    return Promise.all(
      segments.map(async (segment, index) => {
        if (segment.etag !== null && !all) return segment;
        if (segment.key === null) throw new StorageUnavailableError('A part of this upload has no stored segment');
        const release = await this.ctx.limiter.acquire();
        try {
          return { ...segment, etag: await this.copyPart(key, multipartId, index + 1, segment.key, segment.size) };
        } finally {
          release();
        }
      }),
    );
  }

  private async copyPart(key: string, multipartId: string, partNumber: number, source: string, size: number): Promise<string> {
    const { ctx } = this;
    if (!this.copyPartUnsupported) {
      try {
        const out = await ctx.client.send(
          new UploadPartCopyCommand({
            Bucket: ctx.bucket,
            Key: key,
            UploadId: multipartId,
            PartNumber: partNumber,
            CopySource: `${ctx.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
          }),
        );
        return out.CopyPartResult!.ETag!;
      } catch (error) {
        if (isS3NotFound(error)) throw new MissingStagingError('A segment object of this upload is missing');
        if (!isNotImplemented(error)) throw toStorageError(error, 'UploadPartCopy');
        this.copyPartUnsupported = true;
      }
    }
    const stream = await this.openObject(source, 'segment');
    const out = await ctx.call('UploadPart', () =>
      ctx.client.send(
        new UploadPartCommand({ Bucket: ctx.bucket, Key: key, UploadId: multipartId, PartNumber: partNumber, Body: stream, ContentLength: size }),
      ),
    );
    return out.ETag!;
  }

  /** Store a spooled file under a fresh staging key; returns the key. */
  private async putStaging(uploadId: string, kind: 'p' | 't', part: SpooledPart): Promise<string> {
    const key = newStagingKey(uploadId, kind);
    await this.ctx.call('PutObject', () =>
      this.ctx.client.send(
        new PutObjectCommand({ Bucket: this.ctx.bucket, Key: key, Body: createReadStream(part.file), ContentLength: part.size }),
      ),
    );
    return key;
  }

  /** Stream of a staging object. */
  private async openObject(key: string, what: string): Promise<Readable> {
    try {
      const out = await this.ctx.client.send(new GetObjectCommand({ Bucket: this.ctx.bucket, Key: key }));
      return out.Body as Readable;
    } catch (error) {
      if (isS3NotFound(error)) throw new MissingStagingError(`The ${what} object of this upload is missing`);
      throw toStorageError(error, 'GetObject');
    }
  }
}

/** A staging object (segment or tail) is gone: the upload was completed (or aborted) meanwhile. */
class MissingStagingError extends StorageUnavailableError {}
