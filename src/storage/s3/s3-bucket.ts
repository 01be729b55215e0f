import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { validateBlobPath } from '../blob-path';
import { remoteBlobInfo } from '../common/remote-blob-info';
import type { BlobInfo } from '../storage-provider';
import { isNoSuchUpload, isNotImplemented, isS3NotFound, s3Call, toStorageError } from './s3-errors';
import type { SpooledPart } from './s3-part-spooler';

/** Content type and (already header-encoded) metadata an object is created with. */
export interface S3ObjectHeaders {
  contentType?: string;
  metadata?: Record<string, string>;
}

/**
 * The object operations of one bucket that the whole-object put, the resumable path and the provider share:
 * stat, deletes (one key, many, a prefix), multipart create/part/abort and file uploads. Every call maps SDK
 * failures to typed errors (`s3Call`).
 */
export class S3Bucket {
  private warnedNoAbort = false;

  constructor(
    /** The SDK client in use. */
    readonly client: S3Client,
    /** The bucket's name. */
    readonly name: string,
  ) {}

  /** `CopySource` naming `key` in this bucket (each path segment URL-encoded). */
  copySource(key: string): string {
    return `${this.name}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** HeadObject of a (validated) blob path as `BlobInfo`; null when the key does not exist. */
  async stat(path: string): Promise<BlobInfo | null> {
    validateBlobPath(path);
    let head: HeadObjectCommandOutput;
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: path }));
    } catch (error) {
      if (isS3NotFound(error)) return null;
      throw toStorageError(error, 'HeadObject');
    }
    const { ContentLength: size, ContentType: contentType, LastModified: lastModified, ETag: etag } = head;
    return remoteBlobInfo(path, { size, contentType, lastModified, etag, metadata: head.Metadata });
  }

  /** DeleteObject (S3 answers success for a missing key too). */
  async deleteObject(key: string): Promise<void> {
    await s3Call('DeleteObject', () => this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key })));
  }

  /** Delete keys: one DeleteObject for a single key, else one DeleteObjects. */
  async deleteKeys(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    if (keys.length === 1) {
      await this.deleteObject(keys[0]);
      return;
    }
    const Delete = { Objects: keys.map((Key) => ({ Key })), Quiet: true };
    await s3Call('DeleteObjects', () => this.client.send(new DeleteObjectsCommand({ Bucket: this.name, Delete })));
  }

  /** Delete every object under `prefix`, one listed page at a time. */
  async deletePrefix(prefix: string): Promise<void> {
    let startAfter: string | undefined;
    for (;;) {
      const page = await s3Call('ListObjectsV2', () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, StartAfter: startAfter })),
      );
      const keys = (page.Contents ?? []).map((o) => o.Key!);
      await this.deleteKeys(keys);
      if (!page.IsTruncated || keys.length === 0) return;
      startAfter = keys[keys.length - 1];
    }
  }

  /** CreateMultipartUpload; returns the multipart upload id. */
  async createMultipart(key: string, headers: S3ObjectHeaders): Promise<string> {
    const out = await s3Call('CreateMultipartUpload', () =>
      this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.name,
          Key: key,
          ContentType: headers.contentType,
          Metadata: headers.metadata,
        }),
      ),
    );
    return out.UploadId!;
  }

  /** Upload one spooled part file; returns its ETag. */
  async uploadPartFile(key: string, multipartId: string, partNumber: number, part: SpooledPart): Promise<string> {
    const out = await s3Call('UploadPart', () =>
      this.client.send(
        new UploadPartCommand({
          Bucket: this.name,
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

  /** PutObject of a spooled file (`null`: an empty object). */
  async putFile(key: string, part: SpooledPart | null, headers: S3ObjectHeaders = {}): Promise<void> {
    await s3Call('PutObject', () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.name,
          Key: key,
          Body: part ? createReadStream(part.file) : Buffer.alloc(0),
          ContentLength: part?.size ?? 0,
          ContentType: headers.contentType,
          Metadata: headers.metadata,
        }),
      ),
    );
  }

  /** AbortMultipartUpload, idempotent. Backends without it (s3rver) leave the parts to a lifecycle rule. */
  async abortMultipart(key: string, multipartId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.name, Key: key, UploadId: multipartId }));
    } catch (error) {
      if (isNoSuchUpload(error) || isS3NotFound(error)) return;
      if (isNotImplemented(error)) {
        if (!this.warnedNoAbort) {
          this.warnedNoAbort = true;
          // eslint-disable-next-line no-console -- providers have no logger; this warns once per provider
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
}
