import { GetObjectCommand, UploadPartCommand, UploadPartCopyCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { StorageUnavailableError } from '../../errors/vali-blob.errors';
import type { Semaphore } from '../common/semaphore';
import type { S3Bucket } from './s3-bucket';
import { isNotImplemented, isS3NotFound, s3Call, toStorageError } from './s3-errors';
import { SegmentRecord } from './s3-upload-state';

/** A staging object (segment or tail) is gone: the upload was completed (or aborted) meanwhile. */
export class MissingStagingError extends StorageUnavailableError {}

/**
 * Turns committed segment objects into parts of a multipart upload and reads staging objects back. Only ever
 * handed segments of a committed manifest, so every copy of part N carries the same bytes, whoever makes it.
 */
export class S3SegmentCopier {
  private copyPartUnsupported = false;

  constructor(
    private readonly bucket: S3Bucket,
    /** The provider's cap on part uploads in flight (copies count as part uploads). */
    private readonly limiter: Semaphore,
  ) {}

  /**
   * Copy segments into parts `index + 1` of a multipart upload: the ones without an ETag, or all with `all`.
   * UploadPartCopy runs server-side; backends without it (s3rver) get the bytes streamed through (bounded).
   */
  async promote(key: string, multipartId: string, segments: SegmentRecord[], all: boolean): Promise<SegmentRecord[]> {
    return Promise.all(
      segments.map(async (segment, index) => {
        if (segment.etag !== null && !all) return segment;
        if (segment.key === null) throw new StorageUnavailableError('A part of this upload has no stored segment');
        const release = await this.limiter.acquire();
        try {
          return { ...segment, etag: await this.copyPart(key, multipartId, index + 1, segment.key, segment.size) };
        } finally {
          release();
        }
      }),
    );
  }

  private async copyPart(
    key: string,
    multipartId: string,
    partNumber: number,
    source: string,
    size: number,
  ): Promise<string> {
    const { bucket } = this;
    if (!this.copyPartUnsupported) {
      try {
        const out = await bucket.client.send(
          new UploadPartCopyCommand({
            Bucket: bucket.name,
            Key: key,
            UploadId: multipartId,
            PartNumber: partNumber,
            CopySource: bucket.copySource(source),
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
    const out = await s3Call('UploadPart', () =>
      bucket.client.send(
        new UploadPartCommand({
          Bucket: bucket.name,
          Key: key,
          UploadId: multipartId,
          PartNumber: partNumber,
          Body: stream,
          ContentLength: size,
        }),
      ),
    );
    return out.ETag!;
  }

  /** Stream of a staging object. */
  async openObject(key: string, what: string): Promise<Readable> {
    try {
      const out = await this.bucket.client.send(new GetObjectCommand({ Bucket: this.bucket.name, Key: key }));
      return out.Body as Readable;
    } catch (error) {
      if (isS3NotFound(error)) throw new MissingStagingError(`The ${what} object of this upload is missing`);
      throw toStorageError(error, 'GetObject');
    }
  }
}
