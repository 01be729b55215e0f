import { InvalidRequestError, StorageUnavailableError } from '../../errors/vali-blob.errors';
import { ResumableState } from '../storage-provider';

/** One committed byte range of an upload, held by one segment file: bytes [start, end) of the upload. */
export interface LocalSegment {
  /** File name inside the upload's staging directory, or LEGACY_SEGMENT for an older version's staging file. */
  file: string;
  start: number;
  end: number;
}

/**
 * The local provider's resumable state as persisted in the session (only through the store's fenced
 * `advance`): the committed segments in offset order, contiguous from 0. Bytes outside these ranges, in these
 * files or in any other file of the staging directory, are not part of the upload.
 */
export interface LocalUploadState extends ResumableState {
  upload: string;
  segments: LocalSegment[];
}

/** Older versions' state: one staging file `.valiblob/staging/<uploadId>` written by position. */
interface LegacyUploadState extends ResumableState {
  staging: string;
}

/** Marks the single staging file of an upload begun by an older version (`.valiblob/staging/<uploadId>`). */
export const LEGACY_SEGMENT = '@legacy';

const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** `<instance id>-<start offset>-<sequence>`: see segmentName. */
const SEGMENT_PATTERN = /^([0-9a-f]{16})-(\d{1,16})-(\d{1,16})$/;

/**
 * File name of a new segment: the writing provider instance's random id (two instances, even in one process,
 * never share a file), the upload offset where it starts, and a per-instance sequence number (a new segment
 * never reuses a name, even at the same offset as a failed or fenced one).
 */
export function segmentName(instanceId: string, start: number, sequence: number): string {
  return `${instanceId}-${start}-${sequence}`;
}

/** Whether `file` is a segment created by the instance with id `instanceId`. */
export function isOwnSegment(file: string, instanceId: string): boolean {
  return SEGMENT_PATTERN.exec(file)?.[1] === instanceId;
}

/** The upload id a state belongs to (checked: it becomes a file name). */
export function uploadIdOf(state: ResumableState): string {
  const id = typeof state.upload === 'string' ? state.upload : (state as LegacyUploadState).staging;
  // The id becomes a file name: allow only the URL-safe alphabet the engine generates.
  if (typeof id !== 'string' || !UPLOAD_ID_PATTERN.test(id)) throw new InvalidRequestError('Malformed upload id');
  return id;
}

/**
 * Read a persisted state. `committed` is the upload's committed offset, needed only for a legacy state: its
 * file is then taken as one foreign segment [0, committed) (copied at complete, never renamed, since an older
 * process may still hold it open).
 */
export function parseLocalState(state: ResumableState, committed: number): LocalUploadState {
  const upload = uploadIdOf(state);
  if (!Array.isArray(state.segments)) {
    return { upload, segments: committed > 0 ? [{ file: LEGACY_SEGMENT, start: 0, end: committed }] : [] };
  }
  const segments: LocalSegment[] = [];
  let expectedStart = 0;
  for (const raw of state.segments as unknown[]) {
    const segment = raw as Partial<LocalSegment>;
    const valid =
      typeof segment?.file === 'string' &&
      (segment.file === LEGACY_SEGMENT || SEGMENT_PATTERN.test(segment.file)) &&
      segment.start === expectedStart &&
      Number.isSafeInteger(segment.end) &&
      segment.end! > segment.start;
    if (!valid) throw new StorageUnavailableError('Staging state of this upload is malformed');
    segments.push({ file: segment.file!, start: segment.start!, end: segment.end! });
    expectedStart = segment.end!;
  }
  return { upload, segments };
}

/** Committed length of a state: the end of its last segment. */
export function committedLength(state: LocalUploadState): number {
  return state.segments.length === 0 ? 0 : state.segments[state.segments.length - 1].end;
}

/** The state after `bytes` were written at the end of `segment` (a new segment, or the last one grown). */
export function withWrite(state: LocalUploadState, file: string, start: number, end: number): LocalUploadState {
  const segments = state.segments.map((s) => ({ ...s }));
  const last = segments[segments.length - 1];
  if (last && last.file === file) last.end = end;
  else segments.push({ file, start, end });
  return { upload: state.upload, segments };
}
