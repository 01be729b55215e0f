import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobExistsError, InvalidRequestError, StorageUnavailableError } from '../../errors/vali-blob.errors';
import { validateBlobPath } from '../blob-path';
import type { ResumableUploads } from '../common/resumable-uploads';
import { normalizeMetadata } from '../storage-helpers';
import type {
  BeginUploadRequest,
  BlobInfo,
  CompleteUploadRequest,
  ResumableState,
  WriteChunkOptions,
} from '../storage-provider';

/**
 * Memory provider's resumable state: the upload's staging key and the ids of its committed parts, in order.
 * Like the local provider's segments, a part is referenced only by a committed state, so a writer that lost its
 * lease (whose part id never reaches the session) cannot change the bytes of the upload.
 */
interface MemoryUploadState extends ResumableState {
  staging: string;
  parts?: string[];
}

/** A blob of the memory provider: its bytes and its info. */
export interface StoredBlob {
  data: Buffer;
  info: BlobInfo;
}

/** How the memory provider stores (or replaces) a blob; returns a copy of its info. */
export type StoreBlob = (
  path: string,
  data: Buffer,
  contentType: string | null,
  metadata: Record<string, string>,
) => BlobInfo;

/** The resumable uploads of the memory provider: each chunk is a new part, published by one synchronous step. */
export class MemoryResumableUploads implements ResumableUploads {
  /** staging key → part id → bytes (parts of failed or fenced writes too, until complete or abort). */
  private readonly staging = new Map<string, Map<string, Buffer>>();
  private partSequence = 0;

  constructor(
    private readonly blobs: ReadonlyMap<string, StoredBlob>,
    private readonly store: StoreBlob,
  ) {}

  /** Number of unfinished uploads holding staged data. */
  get stagedUploads(): number {
    return this.staging.size;
  }

  async begin(request: BeginUploadRequest): Promise<ResumableState> {
    const staging = `${request.uploadId}.${randomBytes(4).toString('hex')}`;
    this.staging.set(staging, new Map());
    return { staging, parts: [] } satisfies MemoryUploadState;
  }

  async write(state: ResumableState, offset: number, body: Readable, options: WriteChunkOptions) {
    const { staging, parts: committed = [] } = state as MemoryUploadState;
    const parts = this.staging.get(staging);
    if (!parts) {
      body.resume();
      throw new StorageUnavailableError('Staging data of this upload is missing');
    }
    const current = committed.reduce((n, id) => n + (parts.get(id)?.length ?? 0), 0);
    if (current !== offset) {
      body.resume();
      throw new InvalidRequestError(`Staged ${current} bytes but the chunk is for offset ${offset}`, 'INVALID_OFFSET');
    }
    const data = await collect(body);
    if (options.beforeCommit) await options.beforeCommit(data.length);
    if (data.length === 0) return { state: { staging, parts: [...committed] }, bytesWritten: 0 };
    // A new part, never a shared buffer: only a committed state that lists it makes it part of the upload.
    const id = String(++this.partSequence);
    parts.set(id, data);
    return { state: { staging, parts: [...committed, id] } satisfies MemoryUploadState, bytesWritten: data.length };
  }

  async complete(state: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    const { staging: key, parts: committed = [] } = state as MemoryUploadState;
    validateBlobPath(request.path);
    const parts = this.staging.get(key);
    if (!parts) {
      const existing = this.blobs.get(request.path);
      if (existing && existing.data.length === request.totalSize) return { ...existing.info };
      throw new StorageUnavailableError('Staging data of this upload is missing');
    }
    const buffers = committed.map((id) => parts.get(id));
    if (buffers.some((b) => b === undefined)) {
      throw new StorageUnavailableError('Staging data of this upload is missing');
    }
    // Checked and published in one synchronous step: nothing can slip in between (atomic no-replace).
    if (request.overwrite === false && this.blobs.has(request.path)) throw new BlobExistsError(request.path);
    const data = Buffer.concat(buffers as Buffer[]).subarray(0, request.totalSize);
    const info = this.store(request.path, data, request.contentType, normalizeMetadata(request.metadata));
    this.staging.delete(key);
    return info;
  }

  /**
   * A fresh stream of the committed bytes [0, totalSize) (longer staging is cut, as `complete` does). The parts are
   * taken when called, so a later abort or complete does not change a stream already handed out; each piece is a
   * copy, so a consumer that writes into its chunks cannot change the staged data.
   */
  async read(state: ResumableState, totalSize: number): Promise<Readable> {
    const { staging: key, parts: committed = [] } = state as MemoryUploadState;
    const parts = this.staging.get(key);
    const buffers = committed.map((id) => parts?.get(id));
    if (!parts || buffers.some((b) => b === undefined)) {
      throw new StorageUnavailableError('Staging data of this upload is missing');
    }
    const staged = (buffers as Buffer[]).reduce((n, b) => n + b.length, 0);
    if (!Number.isSafeInteger(totalSize) || totalSize < 0 || staged < totalSize) {
      throw new StorageUnavailableError('Staged data does not match the upload size');
    }
    return Readable.from(copiesOf(buffers as Buffer[], totalSize));
  }

  async abort(state: ResumableState): Promise<void> {
    this.staging.delete((state as MemoryUploadState).staging);
  }
}

/** Read a whole stream into one buffer (the memory provider keeps whole blobs anyway). */
export async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** Copies of the first `length` bytes of `buffers`, one piece per buffer (made as the stream is read). */
function* copiesOf(buffers: Buffer[], length: number): Generator<Buffer> {
  let left = length;
  for (const buffer of buffers) {
    if (left <= 0) return;
    const piece = buffer.subarray(0, Math.min(left, buffer.length));
    left -= piece.length;
    yield Buffer.from(piece);
  }
}
