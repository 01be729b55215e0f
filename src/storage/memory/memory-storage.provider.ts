import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  BlobExistsError,
  BlobNotFoundError,
  InvalidRequestError,
  StorageUnavailableError,
} from '../../errors/vali-blob.errors';
import { validateBlobPath, validateBlobPrefix } from '../blob-path';
import { decodeListCursor, encodeListCursor, listLimit, normalizeMetadata, resolveRange } from '../storage-helpers';
import {
  BeginUploadRequest,
  BlobInfo,
  BlobReadResult,
  ByteRange,
  CompleteUploadRequest,
  ListOptions,
  ListPage,
  PutOptions,
  ResumableState,
  StorageProvider,
  WriteChunkOptions,
  WriteChunkResult,
} from '../storage-provider';

interface StoredBlob {
  data: Buffer;
  info: BlobInfo;
}

/**
 * Memory provider's resumable state: the upload's staging key and the ids of its committed parts, in order.
 * Like the local provider's segments, a part is referenced only by a committed state, so a writer that lost its
 * lease (whose part id never reaches the session) cannot change the bytes of the upload.
 */
interface MemoryUploadState extends ResumableState {
  staging: string;
  parts?: string[];
}

/**
 * Blobs held in process memory, for tests and demos. It necessarily keeps whole blobs in memory, so it is
 * not meant for large files; every other rule (paths, ranges, cursors, metadata) matches the other providers.
 */
export class MemoryStorageProvider extends StorageProvider {
  private readonly blobs = new Map<string, StoredBlob>();
  /** staging key → part id → bytes (parts of failed or fenced writes too, until complete or abort). */
  private readonly staging = new Map<string, Map<string, Buffer>>();
  private partSequence = 0;

  async put(path: string, body: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    validateBlobPath(path);
    const metadata = normalizeMetadata(options.metadata);
    const data = await collect(body);
    return this.store(path, data, options.contentType ?? null, metadata);
  }

  async get(path: string, range?: ByteRange): Promise<BlobReadResult> {
    const blob = this.require(path);
    if (!range) return { info: { ...blob.info }, stream: Readable.from([blob.data]) };
    const served = resolveRange(range, blob.data.length);
    return {
      info: { ...blob.info },
      range: served,
      stream: Readable.from([blob.data.subarray(served.start, served.end + 1)]),
    };
  }

  async stat(path: string): Promise<BlobInfo | null> {
    validateBlobPath(path);
    const blob = this.blobs.get(path);
    return blob ? { ...blob.info, metadata: { ...blob.info.metadata } } : null;
  }

  async delete(path: string): Promise<boolean> {
    validateBlobPath(path);
    return this.blobs.delete(path);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const clean = validateBlobPrefix(prefix);
    const limit = listLimit(options.limit);
    const after = decodeListCursor(options.cursor);
    const paths = [...this.blobs.keys()]
      .filter((p) => p.startsWith(clean) && (after === undefined || p > after))
      .sort()
      .slice(0, limit + 1);
    const page = paths.slice(0, limit);
    return {
      items: page.map((p) => ({ ...this.blobs.get(p)!.info })),
      nextCursor: paths.length > limit ? encodeListCursor(page[page.length - 1]) : null,
    };
  }

  async copy(from: string, to: string): Promise<BlobInfo> {
    const blob = this.require(from);
    validateBlobPath(to);
    return this.store(to, Buffer.from(blob.data), blob.info.contentType, { ...blob.info.metadata });
  }

  async move(from: string, to: string): Promise<BlobInfo> {
    const info = await this.copy(from, to);
    if (from !== to) this.blobs.delete(from);
    return info;
  }

  async beginUpload(request: BeginUploadRequest): Promise<ResumableState> {
    const staging = `${request.uploadId}.${randomBytes(4).toString('hex')}`;
    this.staging.set(staging, new Map());
    return { staging, parts: [] } satisfies MemoryUploadState;
  }

  async writeChunk(
    state: ResumableState,
    offset: number,
    body: Readable,
    options: WriteChunkOptions = {},
  ): Promise<WriteChunkResult> {
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

  async completeUpload(state: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
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

  async abortUpload(state: ResumableState): Promise<void> {
    this.staging.delete((state as MemoryUploadState).staging);
  }

  async ping(): Promise<void> {
    // Always available in-process.
  }

  /** Number of unfinished uploads holding staged data (tests use it to prove abort/cleanup free memory). */
  get stagedUploads(): number {
    return this.staging.size;
  }

  private store(path: string, data: Buffer, contentType: string | null, metadata: Record<string, string>): BlobInfo {
    const info: BlobInfo = {
      path,
      size: data.length,
      contentType,
      lastModified: Date.now(),
      etag: `"${createHash('md5').update(data).digest('hex')}"`,
      metadata,
    };
    this.blobs.set(path, { data, info });
    return { ...info, metadata: { ...metadata } };
  }

  private require(path: string): StoredBlob {
    validateBlobPath(path);
    const blob = this.blobs.get(path);
    if (!blob) throw new BlobNotFoundError(path);
    return blob;
  }
}

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}
