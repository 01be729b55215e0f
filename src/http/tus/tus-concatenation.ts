import {
  BlobNotFoundError,
  ChecksumMismatchError,
  InvalidRequestError,
  PartialChangedError,
  SizeExceededError,
  UploadGoneError,
} from '../../errors/vali-blob.errors';
import { UploadStatus } from '../../sessions/upload-session.model';
import { StorageRegistry } from '../../storage/storage.registry';
import type { ConflictPolicy } from '../../uploads/conflict-policy';
import { ResumableUploadService, UploadSessionRecord } from '../../uploads/resumable-upload.service';

/** What the final upload is created with (from the tus POST). */
export interface FinalUploadBase {
  owner: string | null;
  metadata: Record<string, string>;
  contentType: string | null;
  pathFor: (uploadId: string) => Promise<string>;
  conflict: ConflictPolicy;
}

/**
 * Build a tus final upload from completed partial uploads (concatenation extension): a new upload through the
 * engine whose bytes are the partials' blobs streamed in order, so every provider works and the whole-file
 * sha256 is computed as usual.
 *
 * Each partial is used exactly as it was completed: its blob's current size must equal the partial's, and its
 * bytes are copied with the partial's recorded sha256 as the chunk checksum, so a blob that changed since (same
 * size, other bytes) is discarded by the engine before commit. Any change answers 409 `PARTIAL_CHANGED` and the
 * final upload is aborted before it is ever published. Everything that needs no copying is checked first:
 * duplicate ids (400), ownership (404, via the engine), completeness, and the total against `maxUploadSize` (413).
 */
export async function concatenatePartials(
  uploads: ResumableUploadService,
  registry: StorageRegistry,
  maxUploadSize: number,
  ids: string[],
  base: FinalUploadBase,
): Promise<{ uploadId: string; uploadedBytes: number }> {
  if (new Set(ids).size !== ids.length) {
    throw new InvalidRequestError('Upload-Concat names the same partial upload more than once');
  }
  const partials: UploadSessionRecord[] = [];
  for (const id of ids) {
    // Same owner only: another owner's (or an ownerless) partial is "not found" for this caller.
    const partial = await uploads.getSession(id, { owner: base.owner });
    if (partial.concat !== 'partial') {
      throw new InvalidRequestError(`Upload ${id} is not a partial upload (Upload-Concat: partial)`);
    }
    if (partial.status === UploadStatus.Aborted) throw new UploadGoneError(id, 'aborted');
    if (partial.status !== UploadStatus.Complete) {
      throw new InvalidRequestError(`Partial upload ${id} is not complete (concatenation-unfinished is not supported)`);
    }
    partials.push(partial);
  }
  const totalSize = partials.reduce((sum, p) => sum + (p.totalSize ?? 0), 0);
  if (totalSize > maxUploadSize) {
    const message = `The partial uploads add up to more than the maximum of ${maxUploadSize} bytes`;
    throw new SizeExceededError(message, maxUploadSize);
  }
  for (const partial of partials) {
    const info = await registry.get(partial.provider).stat(partial.path);
    if (!info || info.size !== partial.totalSize) throw new PartialChangedError(partial.uploadId);
  }

  const session = await uploads.start({ ...base, totalSize, concat: `final;${ids.join(' ')}`, autoComplete: true });
  let offset = 0;
  let current: UploadSessionRecord | undefined;
  try {
    for (const partial of partials) {
      current = partial;
      const size = partial.totalSize ?? 0;
      if (size === 0) continue;
      const { stream } = await registry.get(partial.provider).get(partial.path);
      const result = await uploads.uploadChunk({
        uploadId: session.uploadId,
        offset,
        body: stream,
        contentLength: size,
        // Sessions from before partials always recorded a sha256 have none: size is all that can be checked.
        checksum: partial.checksum ? { algorithm: 'sha256', digest: Buffer.from(partial.checksum, 'hex') } : undefined,
        owner: base.owner,
        // Publish only after every partial has been verified.
        autoComplete: false,
      });
      if (result.bytesWritten !== size) throw new PartialChangedError(partial.uploadId);
      offset += size;
    }
    current = undefined;
    if (totalSize > 0) await uploads.complete(session.uploadId, { owner: base.owner });
  } catch (error) {
    await uploads.abort(session.uploadId).catch(() => undefined);
    const changed = [ChecksumMismatchError, BlobNotFoundError, SizeExceededError].some((type) => error instanceof type);
    if (current && changed) throw new PartialChangedError(current.uploadId);
    throw error;
  }
  return { uploadId: session.uploadId, uploadedBytes: offset };
}
