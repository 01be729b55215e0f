import { CompletedPart, CompleteMultipartUploadCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { validateBlobPath } from '../blob-path';
import { encodeHeaderMetadata } from '../common/header-metadata';
import { normalizeMetadata } from '../storage-helpers';
import type { PutOptions } from '../storage-provider';
import type { S3Bucket, S3ObjectHeaders } from './s3-bucket';
import { s3Call } from './s3-errors';
import { S3_MIN_PART_SIZE } from './s3-part-size';
import { discardSpooled, SpooledPart, spoolParts } from './s3-part-spooler';
import type { S3Settings } from './s3-storage.options';

/**
 * `put` of the S3 provider: store a whole object from a stream of unknown length. The body is spooled to temp
 * files part by part; one part's worth or less becomes one PutObject, more becomes a multipart upload whose parts
 * upload while the body is still read (at most `maxConcurrentParts` at once). The object appears only when the
 * upload completes; a failure aborts the multipart upload.
 */
export async function putWholeObject(
  bucket: S3Bucket,
  settings: S3Settings,
  path: string,
  body: Readable,
  options: PutOptions,
): Promise<void> {
  validateBlobPath(path);
  const headers: S3ObjectHeaders = {
    contentType: options.contentType ?? undefined,
    metadata: encodeHeaderMetadata(normalizeMetadata(options.metadata)),
  };
  // The body's length is unknown: spool it. One part's worth or less → PutObject; more → multipart.
  const partSize = Math.max(settings.partSize, S3_MIN_PART_SIZE);
  let multipartId: string | null = null;
  let creating: Promise<string> | null = null;
  const parts: CompletedPart[] = [];
  // Parts upload concurrently: the first one creates the multipart upload, the others wait for it.
  const ensureMultipart = () => (creating ??= bucket.createMultipart(path, headers).then((id) => (multipartId = id)));
  let remainder: SpooledPart | null = null;
  try {
    const spooled = await spoolParts({
      sources: [body],
      partSize,
      directory: settings.tempDirectory,
      limiter: settings.limiter,
      onFullPart: async (part, index) => {
        const id = await ensureMultipart();
        const etag = await bucket.uploadPartFile(path, id, index + 1, part);
        parts.push({ PartNumber: index + 1, ETag: etag });
      },
    });
    remainder = spooled.remainder;
    await spooled.uploads;
    if (multipartId === null) {
      await bucket.putFile(path, remainder, headers);
    } else {
      if (remainder) {
        const number = parts.length + 1;
        parts.push({ PartNumber: number, ETag: await bucket.uploadPartFile(path, multipartId, number, remainder) });
      }
      parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
      const command = new CompleteMultipartUploadCommand({
        Bucket: bucket.name,
        Key: path,
        UploadId: multipartId,
        MultipartUpload: { Parts: parts },
      });
      await s3Call('CompleteMultipartUpload', () => bucket.client.send(command));
    }
  } catch (error) {
    if (multipartId) await bucket.abortMultipart(path, multipartId).catch(() => undefined);
    throw error;
  } finally {
    await discardSpooled(remainder);
  }
}
