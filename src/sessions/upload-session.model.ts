import type { ConflictPolicy } from '../uploads/conflict-policy';

/** Lifecycle of an upload session. Stored as these exact strings by every store. */
export enum UploadStatus {
  /** Created, no byte received yet. */
  Pending = 'Pending',
  /** At least one chunk stored. */
  InProgress = 'InProgress',
  /** Every byte stored and the blob moved to its final path; kept as a tombstone until retention ends. */
  Complete = 'Complete',
  /** Aborted by the client or expired by cleanup; provider data freed; tombstone until retention ends. */
  Aborted = 'Aborted',
  /**
   * Refused by the upload policy (first bytes or before publish); staged data freed, the blob never appeared.
   * The reason is kept with the session (`rejection` in its view); tombstone until retention ends.
   */
  Rejected = 'Rejected',
}

/** Statuses in which chunks may still be written. */
export const ACTIVE_STATUSES: readonly UploadStatus[] = [UploadStatus.Pending, UploadStatus.InProgress];

/** Final statuses: the session is a tombstone kept until `expiresAt` (retention), then `deleteExpired` drops it. */
export const TERMINAL_STATUSES: readonly UploadStatus[] = [
  UploadStatus.Complete,
  UploadStatus.Aborted,
  UploadStatus.Rejected,
];

/**
 * One resumable upload as the session stores keep it. Timestamps are epoch milliseconds so every store
 * (JSON in Redis, bigint columns in SQL) round-trips them without time-zone or precision surprises.
 */
export interface UploadSession {
  /** ≥128-bit random, URL-safe id. */
  uploadId: string;
  /** Validated target path of the finished blob. */
  path: string;
  /** Name of the storage provider that holds the data. */
  provider: string;
  /** Declared size in bytes; `null` while the length is deferred (tus creation-defer-length). */
  totalSize: number | null;
  /** Bytes durably stored; chunks must be sent at exactly this offset. */
  uploadedBytes: number;
  /** MIME type of the blob, if given. */
  contentType: string | null;
  /** Client metadata (string values only). */
  metadata: Record<string, string>;
  /** Owner bound at start by the authorize hook; other owners see 404. */
  ownerId: string | null;
  status: UploadStatus;
  createdAt: number;
  updatedAt: number;
  /** Sliding expiry of an active session, or the end of a tombstone's retention. */
  expiresAt: number;
  /** Incremented by every write; lets stores and callers detect lost updates. */
  version: number;
  /** Provider-private resumable state (staging ids, part or block manifests). Never sent to clients. */
  providerState: Record<string, unknown> | null;
  /** Whole-file sha256 (hex) once complete. */
  checksum: string | null;
  /** A piece meant to be concatenated into a later upload (tus `Upload-Concat: partial`); its sha256 is recorded. */
  partial: boolean;
  /**
   * For an upload built by concatenating partial uploads: their ids, in order; `null` for every other upload.
   * Neutral fields rather than a protocol's wire string, so any transport can map them.
   */
  parts: string[] | null;
  /**
   * Fencing token of the last lock holder that advanced this session (0 = none). `advance` with a `fence`
   * in its patch applies only while the stored fence is not newer, so a paused former holder cannot write late.
   */
  fence: number;
  /**
   * What complete does when the path already holds a blob (`fail` | `overwrite` | `rename`), applied atomically
   * at publish. Sessions stored before this field existed read back as `overwrite` (the rule they were created
   * under: overwrite was checked only at start); a session from a store that drops the field is treated as `fail`.
   */
  conflict: ConflictPolicy;
}

/** Fields `advance` may change together with the offset. */
export type SessionPatch = Partial<
  Pick<
    UploadSession,
    | 'path'
    | 'uploadedBytes'
    | 'totalSize'
    | 'status'
    | 'updatedAt'
    | 'expiresAt'
    | 'providerState'
    | 'checksum'
    | 'metadata'
    | 'contentType'
    | 'fence'
  >
>;

/** Query for `find` / `deleteMany`. All given fields must match (AND). */
export interface SessionFilter {
  /** Sessions whose `path` starts with this string (literal, not a pattern). */
  pathPrefix?: string;
  /** One status or any of several. */
  status?: UploadStatus | UploadStatus[];
  ownerId?: string;
  /** Sessions whose `expiresAt` is at or before this instant (epoch ms). */
  expiresBefore?: number;
  /** Sessions created at or before this instant (epoch ms): "older than" queries of the admin API. */
  createdBefore?: number;
  /** Page size for `find` (default 100, max 1000). Ignored by `deleteMany`. */
  limit?: number;
  /** Opaque cursor returned as `nextCursor` by the previous `find` page. */
  cursor?: string;
}

/** One page of `find`. Sessions are ordered by `uploadId`. */
export interface SessionPage {
  items: UploadSession[];
  /** Pass back as `cursor` for the next page; `null` on the last page. */
  nextCursor: string | null;
}

/** Deep copy, so callers never share mutable state with a store. */
export function cloneSession(session: UploadSession): UploadSession {
  return {
    ...session,
    metadata: { ...session.metadata },
    providerState: session.providerState === null ? null : structuredClone(session.providerState),
  };
}
