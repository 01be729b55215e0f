import { CopyObjectCommand, GetObjectCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { InvalidRequestError, NotSupportedError } from '../../errors/vali-blob.errors';
import { validateBlobPath } from '../blob-path';
import { readRemoteBlob } from '../common/remote-read';
import { requireInfo } from '../common/require-info';
import { DelegatingStorageProvider } from '../common/resumable-uploads';
import type {
  BlobInfo,
  BlobReadResult,
  ByteRange,
  ListOptions,
  ListPage,
  PresignOptions,
  PutOptions,
} from '../storage-provider';
import { S3Bucket } from './s3-bucket';
import { s3Call } from './s3-errors';
import { listObjects } from './s3-listing';
import { putWholeObject } from './s3-object.writer';
import { presignObject } from './s3-presign';
import { S3ResumableUploads } from './s3-resumable.uploads';
import { resolveS3Settings, S3Settings, S3StorageOptions } from './s3-storage.options';

/** CopyObject's single-request limit. */
const MAX_COPY_SIZE = 5 * 1024 * 1024 * 1024;

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
 * @publicApi
 */
export class S3StorageProvider extends DelegatingStorageProvider {
  /** The SDK client in use (yours if you passed one). */
  readonly client: S3Client;
  private readonly bucket: S3Bucket;
  private readonly settings: S3Settings;
  protected readonly uploads: S3ResumableUploads;

  constructor(options: S3StorageOptions) {
    super();
    if (!options?.bucket) throw new InvalidRequestError('S3StorageProvider needs a bucket');
    this.client = options.client ?? new S3Client(options.clientConfig ?? {});
    this.bucket = new S3Bucket(this.client, options.bucket);
    this.settings = resolveS3Settings(options);
    this.uploads = new S3ResumableUploads(this.bucket, this.settings);
  }

  async put(path: string, body: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    await putWholeObject(this.bucket, this.settings, path, body, options);
    return requireInfo(this, path);
  }

  async get(path: string, range?: ByteRange): Promise<BlobReadResult> {
    return readRemoteBlob(this, path, range, async (info, served) => {
      const command = new GetObjectCommand({
        Bucket: this.bucket.name,
        Key: path,
        Range: served ? `bytes=${served.start}-${served.end}` : undefined,
        // The blob must be the one `info` describes, not a newer version written in between.
        IfMatch: info.etag ?? undefined,
      });
      const out = await s3Call('GetObject', () => this.client.send(command), path);
      return out.Body as Readable;
    });
  }

  async stat(path: string): Promise<BlobInfo | null> {
    return this.bucket.stat(path);
  }

  async delete(path: string): Promise<boolean> {
    // S3's DeleteObject succeeds for missing keys too; ask first so the result is truthful.
    if (!(await this.stat(path))) return false;
    await this.bucket.deleteObject(path);
    return true;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    return listObjects(this.bucket, prefix, options);
  }

  async copy(from: string, to: string): Promise<BlobInfo> {
    validateBlobPath(to);
    const source = await requireInfo(this, from);
    if (source.size > MAX_COPY_SIZE) {
      throw new NotSupportedError('copy of objects over 5 GiB', 'the S3 storage provider');
    }
    const command = new CopyObjectCommand({
      Bucket: this.bucket.name,
      Key: to,
      CopySource: this.bucket.copySource(from),
      CopySourceIfMatch: source.etag ?? undefined,
      MetadataDirective: 'COPY',
    });
    await s3Call('CopyObject', () => this.client.send(command), from);
    return requireInfo(this, to);
  }

  async move(from: string, to: string): Promise<BlobInfo> {
    // S3 has no rename: copy, then delete the source.
    const info = await this.copy(from, to);
    if (from !== to) await this.bucket.deleteObject(from);
    return info;
  }

  override async presign(path: string, options: PresignOptions): Promise<string> {
    return presignObject(this.bucket, path, options);
  }

  async ping(): Promise<void> {
    await s3Call('HeadBucket', () => this.client.send(new HeadBucketCommand({ Bucket: this.bucket.name })));
  }
}
