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

interface MemoryUploadState extends ResumableState {
  staging: string;
}

/**
 * Blobs held in process memory, for tests and demos. It necessarily keeps whole blobs in memory, so it is
 * not meant for large files; every other rule (paths, ranges, cursors, metadata) matches the other providers.
 */
export class MemoryStorageProvider extends StorageProvider {
  private readonly blobs = new Map<string, StoredBlob>();
  private readonly staging = new Map<string, Buffer[]>();

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
    this.staging.set(staging, []);
    return { staging } satisfies MemoryUploadState;
  }

  async writeChunk(
    state: ResumableState,
    offset: number,
    body: Readable,
    options: WriteChunkOptions = {},
  ): Promise<WriteChunkResult> {
    const parts = this.staging.get((state as MemoryUploadState).staging);
    if (!parts) {
      body.resume();
      throw new StorageUnavailableError('Staging data of this upload is missing');
    }
    const current = parts.reduce((n, p) => n + p.length, 0);
    if (current !== offset) {
      body.resume();
      throw new InvalidRequestError(`Staged ${current} bytes but the chunk is for offset ${offset}`, 'INVALID_OFFSET');
    }
    const data = await collect(body);
    if (options.beforeCommit) await options.beforeCommit(data.length);
    if (data.length > 0) parts.push(data);
    return { state, bytesWritten: data.length };
  }

  async completeUpload(state: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    const key = (state as MemoryUploadState).staging;
    const parts = this.staging.get(key);
    if (!parts) {
      const existing = this.blobs.get(request.path);
      if (existing && existing.data.length === request.totalSize) return { ...existing.info };
      throw new StorageUnavailableError('Staging data of this upload is missing');
    }
    // Check and store in one synchronous step (no await in between): atomic no-replace within the process.
    if (request.overwrite === false && this.blobs.has(request.path)) throw new BlobExistsError(request.path);
    const data = Buffer.concat(parts).subarray(0, request.totalSize);
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
