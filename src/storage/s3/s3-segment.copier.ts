import { GetObjectCommand, UploadPartCommand, UploadPartCopyCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { StorageUnavailableError } from '../../errors/vali-blob.errors';
import { isNotImplemented, isS3NotFound, toStorageError } from './s3-errors';
import type { S3UploadContext } from './s3-resumable.uploads';
import { SegmentRecord } from './s3-upload-state';

/** A staging object (segment or tail) is gone: the upload was completed (or aborted) meanwhile. */
export class MissingStagingError extends StorageUnavailableError {}

/**
 * Turns committed segment objects into parts of a multipart upload and reads staging objects back. Only ever
 * handed segments of a committed manifest, so every copy of part N carries the same bytes, whoever makes it.
 */
export class S3SegmentCopier {
  private copyPartUnsupported = false;

  constructor(private readonly ctx: S3UploadContext) {}

  /**
   * Copy segments into parts `index + 1` of a multipart upload: the ones without an ETag, or all with `all`.
   * UploadPartCopy runs server-side; backends without it (s3rver) get the bytes streamed through (bounded).
   */
  async promote(
    key: string,
    multipartId: string,
    segments: SegmentRecord[],
    all: boolean,
  ): Promise<SegmentRecord[]> {
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

  private async copyPart(
    key: string,
    multipartId: string,
    partNumber: number,
    source: string,
    size: number,
  ): Promise<string> {
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
        new UploadPartCommand({
          Bucket: ctx.bucket,
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
      const out = await this.ctx.client.send(new GetObjectCommand({ Bucket: this.ctx.bucket, Key: key }));
      return out.Body as Readable;
    } catch (error) {
      if (isS3NotFound(error)) throw new MissingStagingError(`The ${what} object of this upload is missing`);
      throw toStorageError(error, 'GetObject');
    }
  }
}
