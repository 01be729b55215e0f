import { createHash, randomBytes } from 'node:crypto';
import { InvalidRequestError, StorageUnavailableError } from '../../errors/vali-blob.errors';
import { RESERVED_SEGMENT } from '../blob-path';
import { ResumableState } from '../storage-provider';
import type { S3Bucket } from './s3-bucket';

/**
 * One stored segment of a resumable upload: the bytes of exactly one part (`partSize` bytes; the last may be
 * shorter once the upload is final). Segment `i` becomes part number `i + 1`.
 */
export interface SegmentRecord {
  /** Staging object holding the bytes (a unique key); null for parts of uploads begun before segments existed. */
  key: string | null;
  size: number;
  /** ETag of part `i + 1` once the segment was copied into the multipart upload; null until then. */
  etag: string | null;
}

/** The pending tail: bytes past the last full segment, kept as an object until a segment can be formed. */
export interface TailRecord {
  key: string;
  size: number;
}

/**
 * S3 provider state of a resumable upload (persisted by the engine as `providerState`): the committed manifest.
 * With it, a resume needs no ListParts call: the committed offset is `sum(segments.size) + tail.size`.
 */
export interface S3UploadState extends ResumableState {
  v: 2;
  uploadId: string;
  key: string;
  multipartId: string;
  partSize: number;
  totalSize: number | null;
  segments: SegmentRecord[];
  tail: TailRecord | null;
  /** The previous generation's tail; deleted once this state is known to be persisted (next write). */
  staleTail: string | null;
}

const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** Where segments and tails of resumable uploads live (hidden from `list`). */
export const STAGING_AREA = `${RESERVED_SEGMENT}/s3-staging/`;
/** Tails of uploads begun before the staging area existed. */
export const LEGACY_TAIL_AREA = `${RESERVED_SEGMENT}/s3-tails/`;

/** The id becomes part of an object key: allow only the URL-safe alphabet the engine generates. */
export function checkUploadId(uploadId: string): string {
  if (typeof uploadId !== 'string' || !UPLOAD_ID_PATTERN.test(uploadId)) {
    throw new InvalidRequestError('Malformed upload id');
  }
  return uploadId;
}

/**
 * A staging key nobody else can produce (128 random bits): every write stores its bytes under fresh keys, so a
 * late writer holding an older state can never replace bytes that another writer stored and committed.
 */
export function newStagingKey(uploadId: string, kind: 'p' | 't'): string {
  return `${STAGING_AREA}${checkUploadId(uploadId)}/${kind}-${randomBytes(16).toString('hex')}`;
}

/** Delete every staging object of an upload (all generations, including ones of attempts never recorded). */
export async function deleteStaging(bucket: S3Bucket, uploadId: string): Promise<void> {
  await bucket.deletePrefix(`${STAGING_AREA}${checkUploadId(uploadId)}/`);
  await bucket.deletePrefix(`${LEGACY_TAIL_AREA}${uploadId}/`);
}

/** Parse a persisted state; states of the previous format (`v: 1`, parts uploaded directly) are converted. */
export function readState(raw: ResumableState): S3UploadState {
  type LegacyPart = { n: number; etag: string; size: number };
  type Persisted = Omit<Partial<S3UploadState>, 'v'> & { v?: number; parts?: LegacyPart[] };
  const state = raw as Persisted;
  if (typeof state?.multipartId !== 'string' || typeof state.key !== 'string') {
    throw new StorageUnavailableError('S3 upload state is missing or from another provider');
  }
  if (state.v === 2 && Array.isArray(state.segments)) return state as S3UploadState;
  if (state.v === 1 && Array.isArray(state.parts)) {
    const { parts, ...rest } = state;
    const segments = parts.map((p): SegmentRecord => ({ key: null, size: p.size, etag: p.etag }));
    return { ...(rest as S3UploadState), v: 2, segments };
  }
  throw new StorageUnavailableError('S3 upload state is missing or from another provider');
}

/** Bytes the manifest holds. */
export function committedBytes(state: S3UploadState): number {
  return state.segments.reduce((sum, s) => sum + s.size, 0) + (state.tail?.size ?? 0);
}

/** A short last segment was stored: the upload cannot take more bytes. */
export function isSealed(state: S3UploadState): boolean {
  const last = state.segments[state.segments.length - 1];
  return last !== undefined && last.size < state.partSize;
}

/**
 * The ETag S3 gives an object completed from these part ETags (MD5 of the concatenated binary part MD5s, `-N`).
 * Null when a part ETag is not a plain MD5 (SSE-KMS, SSE-C), where it cannot be predicted.
 */
export function multipartEtag(partEtags: string[]): string | null {
  const hash = createHash('md5');
  for (const etag of partEtags) {
    const hex = etag.replace(/"/g, '');
    if (!/^[0-9a-f]{32}$/i.test(hex)) return null;
    hash.update(Buffer.from(hex, 'hex'));
  }
  return `"${hash.digest('hex')}-${partEtags.length}"`;
}
