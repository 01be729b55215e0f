import {
  BlobSASPermissions,
  BlobServiceClient,
  BlockBlobClient,
  ContainerClient,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  BlobExistsError,
  BlobNotFoundError,
  InvalidRequestError,
  NotSupportedError,
  SizeExceededError,
  StorageUnavailableError,
  ValiBlobError,
} from '../../errors/vali-blob.errors';
import { RESERVED_SEGMENT, validateBlobPath, validateBlobPrefix } from '../blob-path';
import { listLimit, normalizeMetadata, resolveRange } from '../storage-helpers';
import {
  BeginUploadRequest,
  BlobInfo,
  BlobReadResult,
  ByteRange,
  CompleteUploadRequest,
  ListOptions,
  ListPage,
  PresignOptions,
  PutOptions,
  ResumableState,
  StorageProvider,
  WriteChunkOptions,
  WriteChunkResult,
} from '../storage-provider';
import { Semaphore } from '../common/semaphore';
import { AZURE_MAX_BLOCKS, blockIdOf, legacyBlockKey, newBlockKey, uploadTag } from './azure-block-id';
import { decodeHeaderMetadata, encodeHeaderMetadata } from '../common/header-metadata';
import { AzureBlobStorageOptions } from './azure-storage.options';

/** One staged block of the manifest: its start offset and its key (id = `blockIdOf(tag, key)`). */
type BlockEntry = [start: number, key: string];

/**
 * Azure provider state of a resumable upload (persisted by the engine as `providerState`): the manifest of the
 * committed blocks, in offset order. Only this list is ever committed, so blocks staged by anyone else (a late
 * writer with an older state) are never part of the blob.
 */
interface AzureUploadState extends ResumableState {
  v: 2;
  path: string;
  tag: string;
  /** The staged blocks, ascending by start offset. */
  blocks: BlockEntry[];
  /** Bytes staged so far (end of the last block). */
  size: number;
}

const MiB = 1024 * 1024;
/** Longest SAS lifetime accepted here (7 days, like S3). */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * Blob storage in an Azure Blob Storage container (or Azurite) with `@azure/storage-blob`, as block blobs.
 *
 * Resumable uploads stage blocks on the target blob under ids made of a per-upload tag and a fresh random key per
 * staged block, recorded in the session's `providerState`; complete commits exactly that list (the moment the
 * blob appears). A writer that lost its lease and writes late with an older state stages under ids nobody
 * references, so it can never change committed bytes (a retried chunk likewise adds unreferenced blocks that
 * Azure drops at commit). `overwrite: false` commits with `If-None-Match: *`. Each block is buffered in memory up to `blockSize`, with at most
 * `maxConcurrentBlocks` block uploads in flight across the provider.
 *
 * Limits: 50,000 blocks per blob (every chunk adds at least one block); `presign` needs a shared-key credential
 * (`NotSupportedError` otherwise); aborting cannot delete staged blocks without deleting the blob, so Azure
 * discards them itself after about a week (pair it with a shorter session expiry).
 */
export class AzureBlobStorageProvider extends StorageProvider {
  /** The container client in use. */
  readonly container: ContainerClient;
  private readonly blockSize: number;
  private readonly limiter: Semaphore;

  constructor(options: AzureBlobStorageOptions) {
    super();
    if (options.containerClient) {
      this.container = options.containerClient;
    } else if (options.connectionString && options.containerName) {
      this.container = BlobServiceClient.fromConnectionString(options.connectionString, options.pipelineOptions).getContainerClient(
        options.containerName,
      );
    } else {
      throw new InvalidRequestError('AzureBlobStorageProvider needs containerClient, or connectionString and containerName');
    }
    this.blockSize = options.blockSize ?? 8 * MiB;
    this.limiter = new Semaphore(options.maxConcurrentBlocks ?? 4);
  }

  async put(path: string, body: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    validateBlobPath(path);
    const metadata = encodeHeaderMetadata(normalizeMetadata(options.metadata));
    const headers = { blobContentType: options.contentType ?? undefined };
    const client = this.blob(path);
    // Small bodies are one Put Blob; larger ones are staged as blocks (bounded memory) under a one-off tag.
    const tag = uploadTag(randomBytes(16).toString('hex'));
    const staged = await this.stageBlocks(client, tag, 0, body, 0, undefined, true);
    const short = staged.shortBody;
    if (short) {
      await this.call('upload', () => client.upload(short, short.length, { blobHTTPHeaders: headers, metadata }));
    } else {
      const ids = staged.blocks.map(([, key]) => blockIdOf(tag, key));
      await this.call('commitBlockList', () => client.commitBlockList(ids, { blobHTTPHeaders: headers, metadata }));
    }
    return this.requireInfo(path);
  }

  async get(path: string, range?: ByteRange): Promise<BlobReadResult> {
    const info = await this.requireInfo(path);
    const served = range ? resolveRange(range, info.size) : undefined;
    if (info.size === 0) return { info, stream: Readable.from([]) };
    const out = await this.call(
      'download',
      () =>
        this.blob(path).download(served?.start ?? 0, served ? served.end - served.start + 1 : undefined, {
          // The blob must be the one `info` describes, not a newer version written in between.
          conditions: info.etag ? { ifMatch: info.etag } : undefined,
        }),
      path,
    );
    return { info, range: served, stream: out.readableStreamBody as Readable };
  }

  async stat(path: string): Promise<BlobInfo | null> {
    validateBlobPath(path);
    try {
      const props = await this.blob(path).getProperties();
      return {
        path,
        size: props.contentLength ?? 0,
        contentType: props.contentType ?? null,
        lastModified: props.lastModified?.getTime() ?? 0,
        etag: props.etag ?? null,
        metadata: decodeHeaderMetadata(props.metadata),
      };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw toStorageError(error, 'getProperties');
    }
  }

  async delete(path: string): Promise<boolean> {
    validateBlobPath(path);
    const out = await this.call('delete', () => this.blob(path).deleteIfExists());
    return out.succeeded;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const cleanPrefix = validateBlobPrefix(prefix);
    const limit = listLimit(options.limit);
    const marker = decodeMarker(options.cursor);
    const pages = this.container
      .listBlobsFlat({ prefix: cleanPrefix || undefined, includeMetadata: true })
      .byPage({ maxPageSize: limit, continuationToken: marker });
    const page = await this.call('listBlobsFlat', async () => (await pages.next()).value);
    const items: BlobInfo[] = [];
    for (const blob of page?.segment?.blobItems ?? []) {
      if (blob.name.startsWith(`${RESERVED_SEGMENT}/`)) continue;
      items.push({
        path: blob.name,
        size: blob.properties.contentLength ?? 0,
        contentType: blob.properties.contentType ?? null,
        lastModified: blob.properties.lastModified?.getTime() ?? 0,
        etag: blob.properties.etag ?? null,
        metadata: decodeHeaderMetadata(blob.metadata),
      });
    }
    const next = page?.continuationToken;
    // Azure's own continuation marker is the cursor (wrapped URL-safe): no key is skipped or repeated.
    return { items, nextCursor: next ? Buffer.from(next, 'utf8').toString('base64url') : null };
  }

  async copy(from: string, to: string): Promise<BlobInfo> {
    validateBlobPath(to);
    const source = await this.requireInfo(from);
    // Same-account copy: the service copies server-side, content type and metadata included.
    await this.call(
      'copy',
      async () => {
        const poller = await this.blob(to).beginCopyFromURL(this.blob(from).url, {
          sourceConditions: source.etag ? { ifMatch: source.etag } : undefined,
          intervalInMs: 200,
        });
        return poller.pollUntilDone();
      },
      from,
    );
    return this.requireInfo(to);
  }

  async move(from: string, to: string): Promise<BlobInfo> {
    // Azure has no rename: copy, then delete the source.
    const info = await this.copy(from, to);
    if (from !== to) await this.call('delete', () => this.blob(from).deleteIfExists());
    return info;
  }

  override async presign(path: string, options: PresignOptions): Promise<string> {
    validateBlobPath(path);
    const expiresIn = options.expiresInSeconds;
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGN_SECONDS) {
      throw new InvalidRequestError(`expiresInSeconds must be an integer in 1..${MAX_PRESIGN_SECONDS}`);
    }
    if (options.method !== 'GET' && options.method !== 'PUT') throw new InvalidRequestError('presign method must be GET or PUT');
    if (!(this.container.credential instanceof StorageSharedKeyCredential)) {
      throw new NotSupportedError('presign without a shared key credential', 'the Azure storage provider');
    }
    const now = Date.now();
    return this.blob(path).generateSasUrl({
      permissions: BlobSASPermissions.parse(options.method === 'GET' ? 'r' : 'cw'),
      // A little clock-skew allowance, as Microsoft recommends.
      startsOn: new Date(now - 5 * 60_000),
      expiresOn: new Date(now + expiresIn * 1000),
      contentType: options.method === 'GET' ? undefined : options.contentType,
    });
  }

  async beginUpload(request: BeginUploadRequest): Promise<ResumableState> {
    validateBlobPath(request.path);
    if (typeof request.uploadId !== 'string' || request.uploadId === '') throw new InvalidRequestError('Malformed upload id');
    // Nothing exists on Azure until the first block is staged.
    const state: AzureUploadState = { v: 2, path: request.path, tag: uploadTag(request.uploadId), blocks: [], size: 0 };
    return state;
  }

  async writeChunk(
    rawState: ResumableState,
    offset: number,
    body: Readable,
    options: WriteChunkOptions = {},
  ): Promise<WriteChunkResult> {
    let state: AzureUploadState;
    try {
      state = readState(rawState);
      if (offset !== state.size) {
        throw new InvalidRequestError(`Chunk offset ${offset} does not match the stored ${state.size} bytes`, 'INVALID_OFFSET');
      }
    } catch (error) {
      body.resume();
      throw error;
    }
    const staged = await this.stageBlocks(this.blob(state.path), state.tag, offset, body, state.blocks.length, options.beforeCommit);
    const next: AzureUploadState = { ...state, blocks: [...state.blocks, ...staged.blocks], size: offset + staged.written };
    return { state: next, bytesWritten: staged.written };
  }

  /**
   * Stage `body` as blocks of exactly `blockSize` bytes (the last one shorter), each under a fresh key. Reading
   * waits for a permit before each block upload, so memory stays at about (permits + 1) × blockSize. With
   * `keepShortBody`, a body that ends within its first block is returned instead of staged (one Put Blob).
   */
  private async stageBlocks(
    client: BlockBlobClient,
    tag: string,
    offset: number,
    body: Readable,
    existingBlocks: number,
    beforeCommit?: (written: number) => void | Promise<void>,
    keepShortBody = false,
  ): Promise<{ blocks: BlockEntry[]; written: number; shortBody?: Buffer }> {
    const blocks: BlockEntry[] = [];
    const inFlight: Promise<void>[] = [];
    let firstError: unknown;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let position = offset;

    const stage = async () => {
      const start = position;
      const block = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
      pending = [];
      position += pendingBytes;
      pendingBytes = 0;
      if (existingBlocks + blocks.length + 1 > AZURE_MAX_BLOCKS) {
        throw new SizeExceededError(`Upload needs more than ${AZURE_MAX_BLOCKS} blocks; send larger chunks`, position);
      }
      const key = newBlockKey();
      blocks.push([start, key]);
      // Waiting for a permit pauses reading the body: that is what bounds memory.
      const release = await this.limiter.acquire();
      inFlight.push(
        client
          .stageBlock(blockIdOf(tag, key), block, block.length)
          .then(() => undefined)
          .catch((error) => {
            firstError ??= toStorageError(error, 'stageBlock');
          })
          .finally(release),
      );
    };

    try {
      for await (const piece of body) {
        if (firstError) throw firstError;
        let buffer = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as string);
        while (buffer.length > 0) {
          const take = Math.min(buffer.length, this.blockSize - pendingBytes);
          pending.push(buffer.subarray(0, take));
          pendingBytes += take;
          buffer = buffer.subarray(take);
          if (pendingBytes === this.blockSize) await stage();
        }
      }
      const written = position + pendingBytes - offset;
      // Nothing is recorded yet; blocks already staged under this attempt's ids are simply not referenced.
      if (beforeCommit) await beforeCommit(written);
      if (keepShortBody && blocks.length === 0) {
        return { blocks, written, shortBody: Buffer.concat(pending, pendingBytes) };
      }
      if (pendingBytes > 0) await stage();
      await Promise.all(inFlight);
      if (firstError) throw firstError;
      return { blocks, written };
    } catch (error) {
      // Let every staging of this attempt land first: a retry must never be overtaken by an older block.
      await Promise.allSettled(inFlight);
      throw error;
    }
  }

  async completeUpload(rawState: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    const state = readState(rawState);
    if (request.path !== state.path) {
      // Staged blocks belong to the blob they were staged on; committing them under another name is impossible.
      const feature = 'completing an upload at another path than it began with';
      throw new NotSupportedError(feature, 'the Azure storage provider');
    }
    if (state.size !== request.totalSize) {
      throw new StorageUnavailableError(`Azure holds ${state.size} bytes of this upload, expected ${request.totalSize}`);
    }
    const ids = state.blocks.map(([, key]) => blockIdOf(state.tag, key));
    const client = this.blob(state.path);
    try {
      // Committing the same list twice is harmless (the ids then name committed blocks): complete is idempotent.
      await client.commitBlockList(ids, {
        blobHTTPHeaders: { blobContentType: request.contentType ?? undefined },
        metadata: encodeHeaderMetadata(normalizeMetadata(request.metadata)),
        // No check-then-act: the service refuses the commit when any blob exists at the path.
        conditions: request.overwrite === false ? { ifNoneMatch: '*' } : undefined,
      });
    } catch (error) {
      if (request.overwrite === false && isExistsConflict(error)) {
        // A complete retried after it succeeded finds its own blob: same committed block list → ours.
        if (await this.committedListIs(client, ids)) return this.requireInfo(state.path);
        // The staged blocks stay uncommitted, so the caller may retry (after the other blob is gone).
        throw new BlobExistsError(request.path);
      }
      throw toStorageError(error, 'commitBlockList');
    }
    return this.requireInfo(state.path);
  }

  /** Whether the committed block list of the blob is exactly `ids` (a blob that is ours). */
  private async committedListIs(client: BlockBlobClient, ids: string[]): Promise<boolean> {
    const list = await this.call('getBlockList', () => client.getBlockList('committed'));
    const committed = (list.committedBlocks ?? []).map((b) => b.name);
    return ids.length > 0 && committed.length === ids.length && committed.every((id, i) => id === ids[i]);
  }

  async abortUpload(rawState: ResumableState): Promise<void> {
    readState(rawState);
    // Staged blocks cannot be deleted without deleting the blob, which may be an older committed version the
    // user still has; nothing was published, and Azure garbage-collects uncommitted blocks after ~7 days.
  }

  async ping(): Promise<void> {
    const exists = await this.call('exists', () => this.container.exists());
    if (!exists) throw new StorageUnavailableError(`Azure container ${this.container.containerName} does not exist`);
  }

  private blob(path: string): BlockBlobClient {
    return this.container.getBlockBlobClient(path);
  }

  private async requireInfo(path: string): Promise<BlobInfo> {
    const info = await this.stat(path);
    if (!info) throw new BlobNotFoundError(path);
    return info;
  }

  /** Run one SDK call, mapping 404 on `notFoundPath` to `BlobNotFoundError` and the rest to 503. */
  private async call<T>(action: string, run: () => Promise<T>, notFoundPath?: string): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (notFoundPath !== undefined && statusOf(error) === 404) throw new BlobNotFoundError(notFoundPath);
      throw toStorageError(error, action);
    }
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}

function toStorageError(error: unknown, action: string): Error {
  if (error instanceof ValiBlobError) return error;
  const e = error as { code?: string; statusCode?: number };
  return new StorageUnavailableError(`Azure ${action} failed (${e?.code ?? 'error'}${e?.statusCode ? ` ${e.statusCode}` : ''})`, {
    cause: error,
  });
}

function decodeMarker(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidRequestError('Malformed list cursor');
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

/** A write refused because a blob exists (`If-None-Match: *`): 409 BlobAlreadyExists, or 412 on some versions. */
function isExistsConflict(error: unknown): boolean {
  const status = statusOf(error);
  return status === 409 || status === 412;
}

function readState(raw: ResumableState): AzureUploadState {
  const state = raw as { v?: number; tag?: unknown; path?: unknown; blocks?: unknown; size?: unknown };
  const shaped = typeof state?.tag === 'string' && typeof state.path === 'string' && Array.isArray(state.blocks);
  if (shaped && state.v === 2) return state as AzureUploadState;
  if (shaped && state.v === 1) {
    // Uploads begun before block keys were random: their blocks keep their offset-derived ids.
    const blocks = (state.blocks as number[]).map((start): BlockEntry => [start, legacyBlockKey(start)]);
    return { ...(state as AzureUploadState), v: 2, blocks };
  }
  throw new StorageUnavailableError('Azure upload state is missing or from another provider');
}
