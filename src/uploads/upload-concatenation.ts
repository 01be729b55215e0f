import { Inject, Injectable } from '@nestjs/common';
import {
  BlobNotFoundError,
  ChecksumMismatchError,
  InvalidRequestError,
  PartialChangedError,
  SizeExceededError,
  UploadGoneError,
} from '../errors/vali-blob.errors';
import { UploadSession, UploadStatus } from '../sessions/upload-session.model';
import { StorageRegistry } from '../storage/storage.registry';
import { VALIBLOB_OPTIONS } from '../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../vali-blob.options';
import type { ConflictPolicy } from './conflict-policy';
import { ResumableUploadService } from './resumable-upload.service';

/**
 * The concatenation role of an upload: an ordinary one, a partial (a piece of a later final upload), or a
 * final upload built from the partial uploads `ids`, in order.
 */
export type ConcatRole = { kind: 'none' } | { kind: 'partial' } | { kind: 'final'; ids: string[] };

/** The role of a session, from its neutral fields (`partial`, `parts`). */
export function concatRoleOf(session: Pick<UploadSession, 'partial' | 'parts'>): ConcatRole {
  if (session.parts) return { kind: 'final', ids: [...session.parts] };
  return session.partial ? { kind: 'partial' } : { kind: 'none' };
}

/** What the final upload is created with (from the tus POST). */
export interface FinalUploadBase {
  /** Owner of the final upload; every partial must belong to it. */
  owner: string | null;
  /** Metadata of the final upload (partials' metadata is not inherited). */
  metadata: Record<string, string>;
  contentType: string | null;
  /** Builds the final upload's path from its generated id. */
  pathFor: (uploadId: string) => Promise<string>;
  conflict: ConflictPolicy;
}

/** The fields of a partial upload the concatenation reads (never its provider state). */
type PartialUpload = Pick<UploadSession, 'uploadId' | 'provider' | 'path' | 'totalSize' | 'checksum'>;

/** Errors a partial's copy fails with when its blob changed since the partial completed. */
const PARTIAL_CHANGED_SIGNS = [ChecksumMismatchError, BlobNotFoundError, SizeExceededError];

/**
 * Builds a final upload from completed partial uploads (tus concatenation extension), as an engine operation:
 * a new upload through the engine whose bytes are the partials' blobs streamed in order, so every provider
 * works and the whole-file sha256 is computed as usual.
 */
@Injectable()
export class UploadConcatenator {
  constructor(
    private readonly uploads: ResumableUploadService,
    private readonly registry: StorageRegistry,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
  ) {}

  /**
   * Create the final upload of the partials `ids` (in order) and complete it.
   *
   * Each partial is used exactly as it was completed: its blob's current size must equal the partial's, and its
   * bytes are copied with the partial's recorded sha256 as the chunk checksum, so a blob that changed since (same
   * size, other bytes) is discarded by the engine before commit. Any change answers 409 `PARTIAL_CHANGED` and the
   * final upload is aborted before it is ever published. Everything that needs no copying is checked first:
   * duplicate ids (400), ownership (404, via the engine), completeness, and the total against `maxUploadSize` (413).
   */
  async concatenate(ids: string[], base: FinalUploadBase): Promise<{ uploadId: string; uploadedBytes: number }> {
    const partials = await this.completedPartials(ids, base.owner);
    const totalSize = partials.reduce((sum, p) => sum + (p.totalSize ?? 0), 0);
    const { maxUploadSize } = this.options;
    if (totalSize > maxUploadSize) {
      const message = `The partial uploads add up to more than the maximum of ${maxUploadSize} bytes`;
      throw new SizeExceededError(message, maxUploadSize);
    }
    for (const partial of partials) {
      const info = await this.registry.get(partial.provider).stat(partial.path);
      if (!info || info.size !== partial.totalSize) throw new PartialChangedError(partial.uploadId);
    }

    const session = await this.uploads.start({ ...base, totalSize, parts: ids, autoComplete: true });
    let offset = 0;
    let current: PartialUpload | undefined;
    try {
      for (const partial of partials) {
        current = partial;
        offset += await this.copyPartial(session.uploadId, offset, partial, base.owner);
      }
      current = undefined;
      if (totalSize > 0) await this.uploads.complete(session.uploadId, { owner: base.owner });
    } catch (error) {
      await this.uploads.abort(session.uploadId).catch(() => undefined);
      const changed = PARTIAL_CHANGED_SIGNS.some((type) => error instanceof type);
      if (current && changed) throw new PartialChangedError(current.uploadId);
      throw error;
    }
    return { uploadId: session.uploadId, uploadedBytes: offset };
  }

  /** The partials named by `ids`, each a completed partial upload of `owner`; duplicates refused. */
  private async completedPartials(ids: string[], owner: string | null): Promise<PartialUpload[]> {
    if (new Set(ids).size !== ids.length) {
      throw new InvalidRequestError('Upload-Concat names the same partial upload more than once');
    }
    const partials: PartialUpload[] = [];
    for (const id of ids) {
      // Same owner only: another owner's (or an ownerless) partial is "not found" for this caller.
      const partial = await this.uploads.getSession(id, { owner });
      if (concatRoleOf(partial).kind !== 'partial') {
        throw new InvalidRequestError(`Upload ${id} is not a partial upload (Upload-Concat: partial)`);
      }
      if (partial.status === UploadStatus.Aborted) throw new UploadGoneError(id, 'aborted');
      if (partial.status !== UploadStatus.Complete) {
        const message = `Partial upload ${id} is not complete (concatenation-unfinished is not supported)`;
        throw new InvalidRequestError(message);
      }
      partials.push(partial);
    }
    return partials;
  }

  /** Copy one partial's blob into the final upload at `offset`; returns its size. */
  private async copyPartial(
    uploadId: string,
    offset: number,
    partial: PartialUpload,
    owner: string | null,
  ): Promise<number> {
    const size = partial.totalSize ?? 0;
    if (size === 0) return 0;
    const { stream } = await this.registry.get(partial.provider).get(partial.path);
    const result = await this.uploads.uploadChunk({
      uploadId,
      offset,
      body: stream,
      contentLength: size,
      // Sessions from before partials always recorded a sha256 have none: size is all that can be checked.
      checksum: partial.checksum ? { algorithm: 'sha256', digest: Buffer.from(partial.checksum, 'hex') } : undefined,
      owner,
      // Publish only after every partial has been verified.
      autoComplete: false,
    });
    if (result.bytesWritten !== size) throw new PartialChangedError(partial.uploadId);
    return size;
  }
}
