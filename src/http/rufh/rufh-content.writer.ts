import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { InconsistentLengthError, OffsetMismatchError, SizeExceededError } from '../../errors/vali-blob.errors';
import { UploadStatus } from '../../sessions/upload-session.model';
import { ResumableUploadService } from '../../uploads/resumable-upload.service';
import type { ChunkResult } from '../../uploads/resumable-upload.types';
import type { ChunkChecksum } from '../../uploads/upload-checksum';
import type { RufhRequest } from './rufh-request';

/** One request's content for an upload, as the draft's creation and append requests carry it. */
export interface RufhContent {
  uploadId: string;
  owner: string | null;
  /** Offset the content starts at (0 for creation, `Upload-Offset` for an append). */
  offset: number;
  /** The length the upload has recorded so far (`null`: not known yet). */
  recordedLength: number | null;
  /** The offset the upload had when the request was read (an append's pre-read; creation: 0). */
  recordedOffset: number;
  /** `Upload-Length`, when sent (and valid). */
  declaredLength?: number;
  /** `Upload-Complete`: this request carries the end of the representation. */
  complete: boolean;
  /** `Content-Length` (`null`: chunked). */
  contentLength: number | null;
  /** From `Content-Digest`. */
  checksum?: ChunkChecksum;
  /** The content stream when it is not the request itself (a platform's `rawBody` copy). */
  body?: Readable;
}

/** The last interop version whose uploads also complete on reaching their declared length (see below). */
const LAST_TUSD_STYLE_VERSION = 6;

/**
 * Writes the content of a draft creation or append through the engine, with the draft's completion rules on
 * top of the engine's chunk semantics (offset check, atomic advance, stored prefix on interruption):
 * - the length is recorded from `Upload-Length` or, with `Upload-Complete: ?1`, offset + `Content-Length`
 *   (§4.1.3); values that disagree with each other or with the recorded length are `inconsistent-upload-length`;
 * - an upload completes only when a `?1` request's content was fully processed (§4.1.2) — never because the
 *   offset reached the length — and then under the same lock as the last bytes (the engine's auto-complete).
 *   Interop 5 and 6 (drafts -03 to -05, tus-js-client's draft modes) also complete when the content reaches a
 *   length the client declared, as tusd does: those drafts had no such rule, and tus-js-client relies on it (a
 *   stream source of known size never marks its last part `?1`, and an empty file is created with `?0`);
 * - content running past the recorded length is refused and the upload deactivated (§4.4 MUST).
 * Shared by the creation and append handlers, so both apply one set of rules.
 */
@Injectable()
export class RufhContentWriter {
  constructor(private readonly uploads: ResumableUploadService) {}

  /** Store the request's content; returns the engine's result (its session `Complete` when this finished it). */
  async write(ctx: RufhRequest, input: RufhContent): Promise<ChunkResult> {
    const { uploadId, owner, offset, complete, contentLength } = input;
    let length: number | null;
    try {
      length = indicatedLength(input);
    } catch (error) {
      // §4.4: a wrong offset is answered as such first; lengths measured from it mean nothing.
      if (offset !== input.recordedOffset) throw new OffsetMismatchError(input.recordedOffset, offset);
      throw error;
    }
    if (length !== null && offset + (contentLength ?? 0) > length) {
      throw new InconsistentLengthError(`The content ends past the upload length of ${length} bytes`, { length });
    }
    const chunk = { uploadId, owner, transport: 'rufh' as const };
    let result: ChunkResult;
    try {
      result = await this.uploads.uploadChunk({
        ...chunk,
        offset,
        body: input.body ?? ctx.exchange.body,
        contentLength,
        checksum: input.checksum,
        declareTotalSize: length !== input.recordedLength && length !== null ? length : undefined,
        autoComplete: complete || ctx.version <= LAST_TUSD_STYLE_VERSION,
      });
    } catch (error) {
      // The meter's overrun names the upload's own length as its limit (a length over the maximum names the maximum).
      if (error instanceof SizeExceededError && length !== null && error.limit === length) {
        // More bytes than the recorded length: the draft wants the upload resource deactivated, not resumed.
        await this.uploads.abort(uploadId, { owner, transport: 'rufh' }).catch(() => undefined);
        throw new InconsistentLengthError(`The content ran past the upload length of ${length} bytes`, { length });
      }
      throw error;
    }
    const { session, endReason } = result;
    if (!complete || endReason !== 'eof' || session.status === UploadStatus.Complete) return result;
    if (session.totalSize !== null) {
      const held = `${session.uploadedBytes} of ${session.totalSize} bytes`;
      const message = `Upload-Complete: ?1, but the upload holds ${held}`;
      throw new InconsistentLengthError(message, { length: session.totalSize, offset: session.uploadedBytes });
    }
    // Chunked content that said "this is the end": its length is known only now. An empty chunk declares it and
    // completes under the lock, as a tus client finishing a deferred-length upload does.
    const finished = await this.uploads.uploadChunk({
      ...chunk,
      offset: session.uploadedBytes,
      body: Readable.from([]),
      contentLength: 0,
      declareTotalSize: session.uploadedBytes,
      autoComplete: true,
    });
    return { ...finished, bytesWritten: result.bytesWritten };
  }
}

/**
 * The length a request and its upload agree on (§4.1.3: `Upload-Length`, or offset + `Content-Length` with
 * `Upload-Complete: ?1`; every indicator MUST match), `null` while unknown; `InconsistentLengthError` otherwise.
 */
export function indicatedLength(
  input: Pick<RufhContent, 'offset' | 'complete' | 'contentLength' | 'declaredLength' | 'recordedLength'>,
): number | null {
  const { offset, complete, contentLength, declaredLength, recordedLength } = input;
  const indicated = [declaredLength, complete && contentLength !== null ? offset + contentLength : undefined];
  let length = recordedLength;
  for (const value of indicated) {
    if (value === undefined) continue;
    if (length !== null && value !== length) {
      const message = `The upload length ${value} disagrees with ${length}, indicated before`;
      throw new InconsistentLengthError(message, { length, indicated: value });
    }
    length = value;
  }
  return length;
}
