import { CompleteMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  BlobExistsError,
  NotSupportedError,
  StorageUnavailableError,
  ValiBlobError,
} from '../../errors/vali-blob.errors';
import { encodeHeaderMetadata } from '../common/header-metadata';
import { normalizeMetadata } from '../storage-helpers';
import type { BlobInfo, CompleteUploadRequest, ResumableState } from '../storage-provider';
import type { S3Bucket } from './s3-bucket';
import { isNoSuchUpload, isPreconditionFailed, toStorageError } from './s3-errors';
import { MissingStagingError, S3SegmentCopier } from './s3-segment.copier';
import { deleteStaging, multipartEtag, readState } from './s3-upload-state';

/**
 * `completeUpload` of the S3 provider: the committed segments (and the tail, as a short last part) become the
 * parts of the multipart upload, which is completed (`If-None-Match: *` when `overwrite: false`). Idempotent: a
 * complete that finds the object already built from this manifest returns it. Publishing at another path
 * (conflict policy `rename`) builds a new multipart upload there from the same segments.
 */
export async function completeS3Upload(
  bucket: S3Bucket,
  copier: S3SegmentCopier,
  raw: ResumableState,
  request: CompleteUploadRequest,
): Promise<BlobInfo> {
  const state = readState(raw);
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
      await bucket.client.send(
        new PutObjectCommand({
          Bucket: bucket.name,
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
        multipartId = await bucket.createMultipart(target, {
          contentType: request.contentType ?? undefined,
          metadata: encodeHeaderMetadata(normalizeMetadata(request.metadata)),
        });
      }
      segments = await copier.promote(target, multipartId, segments, moved);
      const parts = segments.map((s, i) => ({ PartNumber: i + 1, ETag: s.etag! }));
      await bucket.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket.name,
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
    const existing = await bucket.stat(target).catch(() => null);
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
  await deleteStaging(bucket, state.uploadId).catch(() => undefined);
  // The upload at the begun key (rename, or an empty object) is not needed any more.
  if (moved || segments.length === 0) await bucket.abortMultipart(state.key, state.multipartId).catch(() => undefined);
  const info = await bucket.stat(target);
  if (!info) throw new StorageUnavailableError(`S3 does not show the completed object ${target}`);
  return info;
}
