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
import { S3ResumableUploads } from './s3-resumable.uploads';
import { checkUploadId, LEGACY_TAIL_AREA, readState, S3UploadState, STAGING_AREA } from './s3-upload-state';
import { Semaphore } from '../common/semaphore';
import { S3StorageOptions } from './s3-storage.options';

const MiB = 1024 * 1024;
const TiB = 1024 * 1024 * MiB;
/** Longest presigned URL lifetime S3 accepts (7 days). */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** CopyObject's single-request limit. */
const MAX_COPY_SIZE = 5 * 1024 * MiB;

/**
 * Blob storage in an S3-compatible bucket (AWS S3, MinIO, R2, Wasabi, s3rver) with `@aws-sdk/client-s3`.
 *
 * Resumable uploads map onto one multipart upload with a part size fixed at begin. Each write stores its bytes
 * as part-sized segment objects (and a short tail) under fresh random keys in the reserved `.valiblob/s3-staging/`
 * area; the manifest in the session's `providerState` lists the committed ones, and only those are copied into
 * part `index + 1` (by the next write or complete). A writer that lost its lease can therefore never change
 * committed bytes (see `S3ResumableUploads`). Parts are buffered in temp files, never whole chunks in memory,
 * and at most `maxConcurrentParts` uploads run at once.
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
  private readonly resumable: S3ResumableUploads;

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
    this.resumable = new S3ResumableUploads({
      client: this.client,
      bucket: this.bucket,
      maxParts: this.maxParts,
      limiter: this.limiter,
      tempDirectory: this.tempDirectory,
      call: (action, run) => this.call(action, run),
      stat: (path) => this.stat(path),
      abortMultipart: (key, id) => this.abortMultipart(key, id),
      deleteKeys: (keys) => this.deleteKeys(keys),
      deleteStaging: (uploadId) => this.deleteStaging(uploadId),
    });
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
      v: 2,
      uploadId,
      key: request.path,
      multipartId: created.UploadId!,
      partSize,
      totalSize: request.totalSize,
      segments: [],
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
    return this.resumable.write(rawState, offset, body, options);
  }

  async completeUpload(rawState: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    validateBlobPath(request.path);
    return this.resumable.complete(rawState, request);
  }

  async abortUpload(rawState: ResumableState): Promise<void> {
    const state = readState(rawState);
    await this.deleteStaging(state.uploadId);
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

  /** Delete every staging object of an upload (all generations, including ones of attempts never recorded). */
  private async deleteStaging(uploadId: string): Promise<void> {
    await this.deletePrefix(`${STAGING_AREA}${checkUploadId(uploadId)}/`);
    await this.deletePrefix(`${LEGACY_TAIL_AREA}${uploadId}/`);
  }

  private async deletePrefix(prefix: string): Promise<void> {
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
