import { Readable } from 'node:stream';
import { NotSupportedError } from '../errors/vali-blob.errors';

/**
 * What a provider knows about a stored blob.
 * @publicApi
 */
export interface BlobInfo {
  path: string;
  size: number;
  contentType: string | null;
  /** Last modification, epoch ms. */
  lastModified: number;
  /** Provider ETag or equivalent, when it has one. */
  etag: string | null;
  /** User metadata; keys are lower-case ASCII letters, digits and `_` on every provider (Azure's rule). */
  metadata: Record<string, string>;
}

/**
 * Inclusive byte range; `end` undefined means "to the end".
 * @publicApi
 */
export interface ByteRange {
  start: number;
  end?: number;
}

/**
 * Result of `get`: the stream plus what range was actually served.
 * @publicApi
 */
export interface BlobReadResult {
  info: BlobInfo;
  stream: Readable;
  /** Inclusive range served, clamped to the blob's size; absent for a whole-blob read. */
  range?: { start: number; end: number };
}

/**
 * Options of `put`.
 * @publicApi
 */
export interface PutOptions {
  contentType?: string | null;
  metadata?: Record<string, string>;
}

/**
 * One page of `list`.
 * @publicApi
 */
export interface ListPage {
  items: BlobInfo[];
  /** Pass back as `cursor` to get the next page; `null` on the last page. */
  nextCursor: string | null;
}

/**
 * Options of `list`.
 * @publicApi
 */
export interface ListOptions {
  cursor?: string;
  /** Page size; providers clamp it to 1..1000 (default 1000). */
  limit?: number;
}

/**
 * Options of `presign`.
 * @publicApi
 */
export interface PresignOptions {
  method: 'GET' | 'PUT';
  expiresInSeconds: number;
  contentType?: string;
}

/**
 * What the engine tells a provider when a resumable upload starts.
 * @publicApi
 */
export interface BeginUploadRequest {
  uploadId: string;
  /** Final path, already validated. */
  path: string;
  /** Declared total size, `null` when deferred. */
  totalSize: number | null;
  contentType: string | null;
  metadata: Record<string, string>;
}

/**
 * Provider-private state of a resumable upload; persisted in the session as `providerState` (JSON).
 * @publicApi
 */
export type ResumableState = Record<string, unknown>;

/**
 * Options of `writeChunk`.
 * @publicApi
 */
export interface WriteChunkOptions {
  /** The chunk's expected length when known (Content-Length); providers may use it to size parts. */
  expectedLength?: number | null;
  /**
   * Called once the body has been fully consumed and before the bytes are made durable / recorded in the
   * returned state. If it throws, the provider discards every byte of this chunk and rethrows.
   */
  beforeCommit?: (bytesWritten: number) => void | Promise<void>;
  /** Declared total size when the chunk is known to be the last one (lets S3 flush a short final part). */
  isFinal?: boolean;
}

/**
 * Result of `writeChunk`.
 * @publicApi
 */
export interface WriteChunkResult {
  /** New provider state to persist together with the new offset. */
  state: ResumableState;
  /** Bytes durably stored by this call (the offset advances by exactly this much). */
  bytesWritten: number;
}

/**
 * Options of `completeUpload`.
 * @publicApi
 */
export interface CompleteUploadRequest {
  uploadId: string;
  path: string;
  totalSize: number;
  contentType: string | null;
  metadata: Record<string, string>;
  /**
   * `false`: publish only if no blob exists at `path`, atomically (no check-then-act: link/rename-without-replace,
   * S3 `If-None-Match: *`, Azure `ifNoneMatch: '*'`), otherwise throw `BlobExistsError(path)` and keep the staged
   * data so the caller can retry at another path. `true` or absent: replace whatever is there.
   * `path` may differ from the path given to `beginUpload` (conflict policy `rename`); a provider that cannot
   * publish elsewhere throws `NotSupportedError`.
   */
  overwrite?: boolean;
}

/**
 * Contract of a blob storage backend. The abstract class is also the DI token of the default provider; named
 * providers are injected with `@InjectStorage(name)`.
 *
 * Paths are `/`-separated relative keys validated by `validateBlobPath` before they reach a provider.
 * Resumable uploads go through `beginUpload` → `writeChunk`* → `completeUpload` | `abortUpload`; offsets
 * advance only by what `writeChunk` reports as durably written.
 * @publicApi
 */
export abstract class StorageProvider {
  /** Registered name (e.g. `local`); set by the registry. */
  name = '';

  /** Store a whole blob from a stream (never buffered whole). */
  abstract put(path: string, body: Readable, options?: PutOptions): Promise<BlobInfo>;
  /** Stream a blob or a range of it; throws `BlobNotFoundError` / `InvalidRequestError('INVALID_RANGE')`. */
  abstract get(path: string, range?: ByteRange): Promise<BlobReadResult>;
  /** Blob info or `null`. */
  abstract stat(path: string): Promise<BlobInfo | null>;
  /** Whether a blob exists at the path. */
  async exists(path: string): Promise<boolean> {
    return (await this.stat(path)) !== null;
  }
  /** Delete a blob; `false` when there was none (idempotent). */
  abstract delete(path: string): Promise<boolean>;
  /** Blobs under a prefix, ordered by path, paged with a real cursor. */
  abstract list(prefix: string, options?: ListOptions): Promise<ListPage>;
  /** Copy a blob (metadata included). */
  abstract copy(from: string, to: string): Promise<BlobInfo>;
  /** Move a blob (metadata included). */
  abstract move(from: string, to: string): Promise<BlobInfo>;
  /** A URL that grants temporary direct access; `NotSupportedError` where the backend has no such thing. */
  async presign(_path: string, _options: PresignOptions): Promise<string> {
    throw new NotSupportedError('presign', `the ${this.name || 'this'} storage provider`);
  }

  /**
   * Throw `PathConflictError` (409) or `InvalidPathError` (400) when a blob could never be stored at `path` on this
   * backend (a parent segment is a blob, the path is a folder, a name too long for the backend). Called at create so
   * such uploads fail before any byte is sent. Default: no extra rule beyond `validateBlobPath`.
   */
  async assertCreatable(_path: string): Promise<void> {}

  /** Prepare provider-side state for a resumable upload. */
  abstract beginUpload(request: BeginUploadRequest): Promise<ResumableState>;
  /** Store the bytes of `body` at `offset`; see `WriteChunkOptions.beforeCommit` for discard semantics. */
  abstract writeChunk(
    state: ResumableState,
    offset: number,
    body: Readable,
    options?: WriteChunkOptions,
  ): Promise<WriteChunkResult>;
  /** Publish the staged bytes at the final path. Idempotent: a second call after success returns the blob. */
  abstract completeUpload(state: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo>;
  /**
   * A fresh stream of the staged bytes `[0, totalSize)` of an unfinished upload whose every byte is stored, for
   * policies that read the whole upload before it is published (virus scanning, `beforePublish`). The staged
   * data stays as it is. Default: `NotSupportedError` (backends whose staged parts cannot be read, e.g. S3
   * multipart uploads and Azure uncommitted blocks).
   */
  async readStaged(_state: ResumableState, _totalSize: number): Promise<Readable> {
    throw new NotSupportedError('reading staged upload data', `the ${this.name || 'this'} storage provider`);
  }
  /** Whether `readStaged` works on this provider (checked at bootstrap when a scanner is configured). */
  get canReadStaged(): boolean {
    return false;
  }
  /** Free every provider-side resource of an unfinished upload. Idempotent. */
  abstract abortUpload(state: ResumableState): Promise<void>;
  /** Resolves when the backend is reachable and usable (health probe). */
  abstract ping(): Promise<void>;
}
