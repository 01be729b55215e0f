import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobNotFoundError } from '../../errors/vali-blob.errors';
import { validateBlobPath, validateBlobPrefix } from '../blob-path';
import { DelegatingStorageProvider } from '../common/resumable-uploads';
import { decodeListCursor, encodeListCursor, listLimit, normalizeMetadata, resolveRange } from '../storage-helpers';
import type { BlobInfo, BlobReadResult, ByteRange, ListOptions, ListPage, PutOptions } from '../storage-provider';
import { collect, MemoryResumableUploads, StoredBlob } from './memory-resumable.uploads';

/**
 * Blobs held in process memory, for tests and demos. It necessarily keeps whole blobs in memory, so it is
 * not meant for large files; every other rule (paths, ranges, cursors, metadata) matches the other providers.
 * @publicApi
 */
export class MemoryStorageProvider extends DelegatingStorageProvider {
  private readonly blobs = new Map<string, StoredBlob>();
  protected readonly uploads = new MemoryResumableUploads(this.blobs, (...blob) => this.store(...blob));

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

  async ping(): Promise<void> {
    // Always available in-process.
  }

  /** Number of unfinished uploads holding staged data (tests use it to prove abort/cleanup free memory). */
  get stagedUploads(): number {
    return this.uploads.stagedUploads;
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
