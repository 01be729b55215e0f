import type { Readable } from 'node:stream';
import type { UploadTransport } from '../policy/upload-policy.interfaces';
import type { UploadSession } from '../sessions/upload-session.model';
import type { BlobInfo } from '../storage/storage-provider';
import type { ChunkEndReason } from './chunk-meter';
import type { ConflictPolicy } from './conflict-policy';
import type { ChunkChecksumSource } from './upload-checksum.verifier';
import type { UploadSessionView } from './upload-session.view';

/**
 * Who is calling: `owner` undefined means a trusted in-process caller (no ownership check).
 * @publicApi
 */
export interface CallerContext {
  /** Owner id from the authorize hook; `null` for anonymous callers. */
  owner?: string | null;
  /**
   * The route the call came through, for metrics and spans (`tus`, `rest`); in-process callers leave it out
   * and are labelled `api`.
   */
  transport?: UploadTransport;
}

/**
 * Input of `ResumableUploadService.start`.
 * @publicApi
 */
export interface StartUploadInput extends CallerContext {
  /** Final blob path; when omitted, `pathFor(uploadId)` or `uploads/<uploadId>`. */
  path?: string;
  /** Builds the path from the generated id (tus naming). */
  pathFor?: (uploadId: string) => string | Promise<string>;
  /** Total size in bytes, or `null` to declare it later (tus defer-length). */
  totalSize: number | null;
  /** MIME type of the blob. */
  contentType?: string | null;
  /** Client metadata (string values only). */
  metadata?: Record<string, string>;
  /** Provider name (default provider when omitted). */
  provider?: string;
  /** Legacy flag: `true` = conflict `overwrite`, `false` = `fail`. */
  overwrite?: boolean;
  /** What complete does when the path holds a blob (default `fail`: 409, checked atomically at complete). */
  conflict?: ConflictPolicy;
  /** A partial upload, to be concatenated later (its sha256 is always recorded). */
  partial?: boolean;
  /** The partial uploads this upload is concatenated from, in order (see `UploadConcatenator`). */
  parts?: string[];
  /** Complete at once when `totalSize` is 0 (tus semantics). */
  autoComplete?: boolean;
  /** The route the upload comes through, as the upload policy sees it. @default 'service' (or `tus` by marker) */
  transport?: UploadTransport;
}

/**
 * Input of `ResumableUploadService.uploadChunk`.
 * @publicApi
 */
export interface UploadChunkInput extends CallerContext {
  /** The upload to write to. */
  uploadId: string;
  /** Offset the client claims the chunk starts at. */
  offset: number;
  /** The chunk body; consumed as a stream. */
  body: Readable;
  /** Declared body length (Content-Length) when known; checked against the limits before reading. */
  contentLength?: number | null;
  /** Checksum of this chunk, or a function read after the body ended (tus checksum trailer). */
  checksum?: ChunkChecksumSource;
  /** Declare the total size of a deferred-length upload (tus `Upload-Length` on PATCH). */
  declareTotalSize?: number;
  /** Complete the upload when this chunk brings it to its total size (tus). */
  autoComplete?: boolean;
}

/**
 * Result of `ResumableUploadService.uploadChunk`.
 * @publicApi
 */
export interface ChunkResult {
  /** The session after this chunk. */
  session: UploadSessionView;
  /** Bytes of this request that were stored. */
  bytesWritten: number;
  /** How the body ended (`eof`, or why it stopped early; bytes that arrived are kept). */
  endReason: ChunkEndReason;
}

/**
 * Result of `ResumableUploadService.complete`.
 * @publicApi
 */
export interface CompleteResult {
  /** The completed session. */
  session: UploadSessionView;
  /** The stored blob (null only if it was deleted after completion). */
  blob: BlobInfo | null;
}

/**
 * A stored session as `getSession` hands it out by default: everything but the provider's private resumable
 * state (part manifests, staging ids), which only the engine and callers that explicitly ask for it may hold.
 * @publicApi
 */
export type UploadSessionRecord = Omit<UploadSession, 'providerState'>;

/** Opt-in of `getSession` for in-process callers that free or inspect provider-side data. */
export interface IncludeProviderState {
  /** Include `providerState` in the returned session. */
  providerState: true;
}
