import {
  AbortMultipartUploadCommand,
  CompletedPart,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  BlobNotFoundError,
  InvalidRequestError,
  NotSupportedError,
  SizeExceededError,
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
  PresignOptions,
  PutOptions,
  ResumableState,
  StorageProvider,
  WriteChunkOptions,
  WriteChunkResult,
} from '../storage-provider';
import { isNoSuchUpload, isNotImplemented, isS3NotFound, toStorageError } from './s3-errors';
import { decodeHeaderMetadata, encodeHeaderMetadata } from '../common/header-metadata';
import { choosePartSize, S3_MAX_PART_SIZE, S3_MAX_PARTS } from './s3-part-size';
import { discardSpooled, SpooledPart, spoolParts } from './s3-part-spooler';
import { Semaphore } from '../common/semaphore';
import { S3StorageOptions } from './s3-storage.options';

/** One uploaded part as recorded in the manifest. */
interface PartRecord {
  /** Part number (1-based) = floor(partStartOffset / partSize) + 1. */
  n: number;
  etag: string;
  size: number;
}

/** The pending tail: bytes past the last full part, kept as an object until a part can be formed. */
interface TailRecord {
  key: string;
  size: number;
}

/**
 * S3 provider state of a resumable upload (persisted by the engine as `providerState`). With it, a resume needs
 * no ListParts call: the committed offset is `sum(parts.size) + tail.size`.
 */
interface S3UploadState extends ResumableState {
  v: 1;
  uploadId: string;
  key: string;
  multipartId: string;
  partSize: number;
  totalSize: number | null;
  parts: PartRecord[];
  tail: TailRecord | null;
  /** The previous generation's tail; deleted once this state is known to be persisted (next write). */
  staleTail: string | null;
}

const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const TAIL_AREA = `${RESERVED_SEGMENT}/s3-tails/`;
const MiB = 1024 * 1024;
const TiB = 1024 * 1024 * MiB;
/** Longest presigned URL lifetime S3 accepts (7 days). */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** CopyObject's single-request limit. */
const MAX_COPY_SIZE = 5 * 1024 * MiB;

/**
 * Blob storage in an S3-compatible bucket (AWS S3, MinIO, R2, Wasabi, s3rver) with `@aws-sdk/client-s3`.
 *
 * Resumable uploads map onto one multipart upload with a part size fixed at begin, so the part number of any
 * byte follows from its offset: a retried chunk rewrites the same part numbers and can never duplicate data.
 * The manifest (number, ETag, size) lives in the session's `providerState`. Bytes that do not fill a whole
 * part are kept as a tail object under the reserved `.valiblob/s3-tails/` prefix until the next chunk (or
 * complete) turns them into a part. Parts are buffered in temp files, never whole chunks in memory, and at
 * most `maxConcurrentParts` part uploads run at once.
 *
 * Not supported (`NotSupportedError`): copy/move of objects over 5 GiB (no UploadPartCopy path yet).
 */
export class S3StorageProvider extends StorageProvider {
  /** The SDK client in use (yours if you passed one). */
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly preferredPartSize: number;
  private readonly maxParts: number;
  private readonly deferredMaxSize: number;
  private readonly limiter: Semaphore;
  private readonly tempDirectory: string;
  private warnedNoAbort = false;

  constructor(options: S3StorageOptions) {
    super();
    if (!options?.bucket) throw new InvalidRequestError('S3StorageProvider needs a bucket');
    this.bucket = options.bucket;
    this.client = options.client ?? new S3Client(options.clientConfig ?? {});
    this.preferredPartSize = options.partSize ?? 8 * MiB;
    this.maxParts = options.maxParts ?? S3_MAX_PARTS;
    this.deferredMaxSize = options.deferredLengthMaxSize ?? TiB;
    this.limiter = new Semaphore(options.maxConcurrentParts ?? 4);
    this.tempDirectory = options.tempDirectory ?? join(tmpdir(), 'valiblob-s3');
  }

  async put(path: string, body: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    validateBlobPath(path);
    const metadata = encodeHeaderMetadata(normalizeMetadata(options.metadata));
    const contentType = options.contentType ?? undefined;
    // The body's length is unknown: spool it. One part's worth or less → PutObject; more → multipart.
    const partSize = this.preferredPartSize < 5 * MiB ? 5 * MiB : this.preferredPartSize;
    let multipartId: string | null = null;
    let creating: Promise<string> | null = null;
    const parts: CompletedPart[] = [];
    // Parts upload concurrently: the first one creates the multipart upload, the others wait for it.
    const ensureMultipart = () =>
      (creating ??= this.call('CreateMultipartUpload', () =>
        this.client.send(
          new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: path, ContentType: contentType, Metadata: metadata }),
        ),
      ).then((out) => (multipartId = out.UploadId!)));
    let remainder: SpooledPart | null = null;
    try {
      const spooled = await spoolParts({
        sources: [body],
        partSize,
        directory: this.tempDirectory,
        limiter: this.limiter,
        onFullPart: async (part, index) => {
          const id = await ensureMultipart();
          const etag = await this.uploadPartFile(path, id, index + 1, part);
          parts.push({ PartNumber: index + 1, ETag: etag });
        },
      });
      remainder = spooled.remainder;
      await spooled.uploads;
      if (multipartId === null) {
        await this.call('PutObject', () =>
          this.client.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: path,
              Body: remainder ? createReadStream(remainder.file) : Buffer.alloc(0),
              ContentLength: remainder?.size ?? 0,
              ContentType: contentType,
              Metadata: metadata,
            }),
          ),
        );
      } else {
        if (remainder) {
          const number = parts.length + 1;
          parts.push({ PartNumber: number, ETag: await this.uploadPartFile(path, multipartId, number, remainder) });
        }
        parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
        const id = multipartId;
        await this.call('CompleteMultipartUpload', () =>
          this.client.send(
            new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: path, UploadId: id, MultipartUpload: { Parts: parts } }),
          ),
        );
      }
    } catch (error) {
      if (multipartId) await this.abortMultipart(path, multipartId).catch(() => undefined);
      throw error;
    } finally {
      await discardSpooled(remainder);
    }
    return this.requireInfo(path);
  }

  async get(path: string, range?: ByteRange): Promise<BlobReadResult> {
    const info = await this.requireInfo(path);
    const served = range ? resolveRange(range, info.size) : undefined;
    if (info.size === 0) return { info, stream: Readable.from([]) };
    const out = await this.call(
      'GetObject',
      () =>
        this.client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: path,
            Range: served ? `bytes=${served.start}-${served.end}` : undefined,
            // The blob must be the one `info` describes, not a newer version written in between.
            IfMatch: info.etag ?? undefined,
          }),
        ),
      path,
    );
    return { info, range: served, stream: out.Body as Readable };
  }

  async stat(path: string): Promise<BlobInfo | null> {
    validateBlobPath(path);
    let head: HeadObjectCommandOutput;
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: path }));
    } catch (error) {
      if (isS3NotFound(error)) return null;
      throw toStorageError(error, 'HeadObject');
    }
    return {
      path,
      size: head.ContentLength ?? 0,
      contentType: head.ContentType ?? null,
      lastModified: head.LastModified?.getTime() ?? 0,
      etag: head.ETag ?? null,
      metadata: decodeHeaderMetadata(head.Metadata),
    };
  }

  async delete(path: string): Promise<boolean> {
    // S3's DeleteObject succeeds for missing keys too; ask first so the result is truthful.
    if (!(await this.stat(path))) return false;
    await this.call('DeleteObject', () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: path })));
    return true;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const cleanPrefix = validateBlobPrefix(prefix);
    const limit = listLimit(options.limit);
    let startAfter = decodeListCursor(options.cursor);
    const items: BlobInfo[] = [];
    // Loop only to step over the reserved area (listing from the bucket root); each round is one request.
    for (;;) {
      const page = await this.call('ListObjectsV2', () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: cleanPrefix || undefined,
            StartAfter: startAfter,
            MaxKeys: limit - items.length,
          }),
        ),
      );
      const contents = page.Contents ?? [];
      for (const object of contents) {
        const key = object.Key!;
        startAfter = key;
        if (key.startsWith(`${RESERVED_SEGMENT}/`)) continue;
        items.push({
          path: key,
          size: object.Size ?? 0,
          // ListObjectsV2 carries neither; `stat` has them.
          contentType: null,
          lastModified: object.LastModified?.getTime() ?? 0,
          etag: object.ETag ?? null,
          metadata: {},
        });
      }
      const more = page.IsTruncated === true && contents.length > 0;
      if (!more) return { items, nextCursor: null };
      if (items.length >= limit) return { items, nextCursor: encodeListCursor(startAfter!) };
    }
  }

  async copy(from: string, to: string): Promise<BlobInfo> {
    validateBlobPath(to);
    const source = await this.requireInfo(from);
    if (source.size > MAX_COPY_SIZE) throw new NotSupportedError('copy of objects over 5 GiB', 'the S3 storage provider');
    await this.call(
      'CopyObject',
      () =>
        this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: to,
            CopySource: `${this.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
            CopySourceIfMatch: source.etag ?? undefined,
            MetadataDirective: 'COPY',
          }),
        ),
      from,
    );
    return this.requireInfo(to);
  }

  async move(from: string, to: string): Promise<BlobInfo> {
    // S3 has no rename: copy, then delete the source.
    const info = await this.copy(from, to);
    if (from !== to) {
      await this.call('DeleteObject', () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: from })));
    }
    return info;
  }

  override async presign(path: string, options: PresignOptions): Promise<string> {
    validateBlobPath(path);
    const expiresIn = options.expiresInSeconds;
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGN_SECONDS) {
      throw new InvalidRequestError(`expiresInSeconds must be an integer in 1..${MAX_PRESIGN_SECONDS}`);
    }
    const command =
      options.method === 'PUT'
        ? new PutObjectCommand({ Bucket: this.bucket, Key: path, ContentType: options.contentType })
        : options.method === 'GET'
          ? new GetObjectCommand({ Bucket: this.bucket, Key: path })
          : null;
    if (!command) throw new InvalidRequestError('presign method must be GET or PUT');
    return getSignedUrl(this.client, command, { expiresIn });
  }

  async beginUpload(request: BeginUploadRequest): Promise<ResumableState> {
    validateBlobPath(request.path);
    const uploadId = checkUploadId(request.uploadId);
    let partSize: number;
    try {
      partSize = choosePartSize(request.totalSize ?? this.deferredMaxSize, this.preferredPartSize, this.maxParts);
    } catch {
      throw new SizeExceededError(`Upload is too large for ${this.maxParts} parts`, this.maxParts * S3_MAX_PART_SIZE);
    }
    const created = await this.call('CreateMultipartUpload', () =>
      this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: request.path,
          ContentType: request.contentType ?? undefined,
          Metadata: encodeHeaderMetadata(normalizeMetadata(request.metadata)),
        }),
      ),
    );
    const state: S3UploadState = {
      v: 1,
      uploadId,
      key: request.path,
      multipartId: created.UploadId!,
      partSize,
      totalSize: request.totalSize,
      parts: [],
      tail: null,
      staleTail: null,
    };
    return state;
  }

  async writeChunk(
    rawState: ResumableState,
    offset: number,
    body: Readable,
    options: WriteChunkOptions = {},
  ): Promise<WriteChunkResult> {
    let state: S3UploadState;
    try {
      state = readState(rawState);
      const committed = committedBytes(state);
      if (offset !== committed) {
        throw new InvalidRequestError(`Chunk offset ${offset} does not match the stored ${committed} bytes`, 'INVALID_OFFSET');
      }
      if (isSealed(state)) throw new InvalidRequestError('The final part of this upload is already stored', 'INVALID_OFFSET');
    } catch (error) {
      body.resume();
      throw error;
    }
    // The state we were given is persisted, so the generation before it can go (best effort).
    if (state.staleTail) void this.deleteKeys([state.staleTail]).catch(() => undefined);

    const firstPart = state.parts.length + 1;
    const partStart = state.parts.reduce((sum, p) => sum + p.size, 0);
    const sources: AsyncIterable<unknown>[] = [];
    if (state.tail) sources.push(await this.openTail(state.tail));
    sources.push(body);
    const newParts: PartRecord[] = [];
    const spooled = await spoolParts({
      sources,
      partSize: state.partSize,
      directory: this.tempDirectory,
      limiter: this.limiter,
      onFullPart: async (part, index) => {
        const n = firstPart + index;
        if (n > this.maxParts) {
          throw new SizeExceededError(`Upload needs more than ${this.maxParts} parts of ${state.partSize} bytes`, this.maxParts * state.partSize);
        }
        newParts.push({ n, etag: await this.uploadPartFile(state.key, state.multipartId, n, part), size: part.size });
      },
    });
    const written = spooled.bytesPerSource[spooled.bytesPerSource.length - 1];
    const remainder = spooled.remainder;
    try {
      if (state.tail && spooled.bytesPerSource[0] !== state.tail.size) {
        throw new StorageUnavailableError('The pending tail object of this upload has the wrong size');
      }
      // Nothing of this chunk is recorded yet; parts already sent under new numbers are simply not referenced
      // (a later write of the same offsets replaces them).
      if (options.beforeCommit) await options.beforeCommit(written);
      await spooled.uploads;

      const end = offset + written;
      const isFinal =
        state.totalSize !== null
          ? end === state.totalSize
          : options.isFinal === true && (options.expectedLength == null || options.expectedLength === written);
      let tail: TailRecord | null = null;
      if (remainder && remainder.size > 0) {
        const n = firstPart + newParts.length;
        if (isFinal) {
          // A short last part is allowed: store it now, nothing stays pending.
          newParts.push({ n, etag: await this.uploadPartFile(state.key, state.multipartId, n, remainder), size: remainder.size });
        } else if (written === 0 && state.tail) {
          tail = state.tail;
        } else {
          tail = { key: `${TAIL_AREA}${state.uploadId}/${partStart}-${end}`, size: remainder.size };
          await this.call('PutObject', () =>
            this.client.send(
              new PutObjectCommand({
                Bucket: this.bucket,
                Key: tail!.key,
                Body: createReadStream(remainder.file),
                ContentLength: remainder.size,
              }),
            ),
          );
        }
      }
      newParts.sort((a, b) => a.n - b.n);
      const next: S3UploadState = {
        ...state,
        parts: [...state.parts, ...newParts],
        tail,
        staleTail: state.tail && state.tail.key !== tail?.key ? state.tail.key : null,
      };
      return { state: next, bytesWritten: written };
    } catch (error) {
      // Let every part upload of this attempt land before reporting: a retry must never be overtaken by them.
      await spooled.uploads.catch(() => undefined);
      throw error;
    } finally {
      await discardSpooled(remainder);
    }
  }

  async completeUpload(rawState: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    const state = readState(rawState);
    const parts = [...state.parts];
    if (state.tail) {
      const tail = state.tail;
      const n = parts.length + 1;
      // The tail becomes the (short) last part; streamed straight from its object, its length is known.
      const source = await this.openTail(tail);
      const out = await this.call('UploadPart', () =>
        this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: state.key,
            UploadId: state.multipartId,
            PartNumber: n,
            Body: source,
            ContentLength: tail.size,
          }),
        ),
      );
      parts.push({ n, etag: out.ETag!, size: tail.size });
    }
    const stored = parts.reduce((sum, p) => sum + p.size, 0);
    if (stored !== request.totalSize) {
      throw new StorageUnavailableError(`S3 holds ${stored} bytes of this upload, expected ${request.totalSize}`);
    }
    try {
      if (parts.length === 0) {
        // A multipart upload needs at least one part; an empty object is one PutObject.
        await this.call('PutObject', () =>
          this.client.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: state.key,
              Body: Buffer.alloc(0),
              ContentLength: 0,
              ContentType: request.contentType ?? undefined,
              Metadata: encodeHeaderMetadata(normalizeMetadata(request.metadata)),
            }),
          ),
        );
        await this.abortMultipart(state.key, state.multipartId);
      } else {
        await this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: state.key,
            UploadId: state.multipartId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.n, ETag: p.etag })) },
          }),
        );
      }
    } catch (error) {
      // A previous complete may have succeeded and died before the session said so: then the object is there.
      const existing = await this.stat(state.key).catch(() => null);
      if (existing && existing.size === request.totalSize && (isNoSuchUpload(error) || parts.length > 0)) {
        await this.deleteUploadTails(state.uploadId).catch(() => undefined);
        return existing;
      }
      throw toStorageError(error, 'CompleteMultipartUpload');
    }
    await this.deleteUploadTails(state.uploadId).catch(() => undefined);
    return this.requireInfo(state.key);
  }

  async abortUpload(rawState: ResumableState): Promise<void> {
    const state = readState(rawState);
    await this.deleteUploadTails(state.uploadId);
    await this.abortMultipart(state.key, state.multipartId);
  }

  async ping(): Promise<void> {
    await this.call('HeadBucket', () => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  /** Upload one spooled part file; returns its ETag. */
  private async uploadPartFile(key: string, multipartId: string, partNumber: number, part: SpooledPart): Promise<string> {
    const out = await this.call('UploadPart', () =>
      this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: multipartId,
          PartNumber: partNumber,
          Body: createReadStream(part.file),
          ContentLength: part.size,
        }),
      ),
    );
    return out.ETag!;
  }

  /** Stream of the pending tail object. */
  private async openTail(tail: TailRecord): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: tail.key }));
      return out.Body as Readable;
    } catch (error) {
      if (isS3NotFound(error)) throw new StorageUnavailableError('The pending tail object of this upload is missing');
      throw toStorageError(error, 'GetObject');
    }
  }

  /** AbortMultipartUpload, idempotent. Backends without it (s3rver) leave the parts to a lifecycle rule. */
  private async abortMultipart(key: string, multipartId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: multipartId }));
    } catch (error) {
      if (isNoSuchUpload(error) || isS3NotFound(error)) return;
      if (isNotImplemented(error)) {
        if (!this.warnedNoAbort) {
          this.warnedNoAbort = true;
          // eslint-disable-next-line no-console
          console.warn(
            'ValiBlob S3: this endpoint does not implement AbortMultipartUpload; unfinished parts stay until a ' +
              'bucket lifecycle rule (AbortIncompleteMultipartUpload) removes them.',
          );
        }
        return;
      }
      throw toStorageError(error, 'AbortMultipartUpload');
    }
  }

  /** Delete every tail object of an upload (all generations, including ones of attempts never recorded). */
  private async deleteUploadTails(uploadId: string): Promise<void> {
    const prefix = `${TAIL_AREA}${checkUploadId(uploadId)}/`;
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.call('ListObjectsV2', () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, StartAfter: startAfter })),
      );
      const keys = (page.Contents ?? []).map((o) => o.Key!);
      await this.deleteKeys(keys);
      if (!page.IsTruncated || keys.length === 0) return;
      startAfter = keys[keys.length - 1];
    }
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    if (keys.length === 1) {
      await this.call('DeleteObject', () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys[0] })));
      return;
    }
    await this.call('DeleteObjects', () =>
      this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
      ),
    );
  }

  private async requireInfo(path: string): Promise<BlobInfo> {
    const info = await this.stat(path);
    if (!info) throw new BlobNotFoundError(path);
    return info;
  }

  /** Run one SDK call, mapping "no such key" on `notFoundPath` to `BlobNotFoundError` and the rest to 503. */
  private async call<T>(action: string, run: () => Promise<T>, notFoundPath?: string): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (notFoundPath !== undefined && isS3NotFound(error)) throw new BlobNotFoundError(notFoundPath);
      throw toStorageError(error, action);
    }
  }
}

function checkUploadId(uploadId: string): string {
  // The id becomes part of an object key: allow only the URL-safe alphabet the engine generates.
  if (typeof uploadId !== 'string' || !UPLOAD_ID_PATTERN.test(uploadId)) throw new InvalidRequestError('Malformed upload id');
  return uploadId;
}

function readState(raw: ResumableState): S3UploadState {
  const state = raw as Partial<S3UploadState>;
  if (state?.v !== 1 || typeof state.multipartId !== 'string' || typeof state.key !== 'string' || !Array.isArray(state.parts)) {
    throw new StorageUnavailableError('S3 upload state is missing or from another provider');
  }
  return state as S3UploadState;
}

function committedBytes(state: S3UploadState): number {
  return state.parts.reduce((sum, p) => sum + p.size, 0) + (state.tail?.size ?? 0);
}

/** A short last part was stored: the upload cannot take more bytes. */
function isSealed(state: S3UploadState): boolean {
  const last = state.parts[state.parts.length - 1];
  return last !== undefined && last.size < state.partSize;
}
