import { BlobServiceClient, BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { InvalidRequestError, StorageUnavailableError } from '../../errors/vali-blob.errors';
import { validateBlobPath } from '../blob-path';
import { encodeHeaderMetadata } from '../common/header-metadata';
import { readRemoteBlob } from '../common/remote-read';
import { requireInfo } from '../common/require-info';
import { remoteBlobInfo } from '../common/remote-blob-info';
import { DelegatingStorageProvider } from '../common/resumable-uploads';
import { Semaphore } from '../common/semaphore';
import { normalizeMetadata } from '../storage-helpers';
import type {
  BlobInfo,
  BlobReadResult,
  ByteRange,
  ListOptions,
  ListPage,
  PresignOptions,
  PutOptions,
} from '../storage-provider';
import { blockIdOf, uploadTag } from './azure-block-id';
import { AzureBlockStager } from './azure-block.stager';
import { azureCall, statusOf, toStorageError } from './azure-errors';
import { listBlobs } from './azure-listing';
import { AzureResumableUploads } from './azure-resumable.uploads';
import { presignBlob } from './azure-sas';
import { AzureBlobStorageOptions } from './azure-storage.options';

const MiB = 1024 * 1024;

/**
 * Blob storage in an Azure Blob Storage container (or Azurite) with `@azure/storage-blob`, as block blobs.
 *
 * Resumable uploads stage blocks on the target blob under ids made of a per-upload tag and a fresh random key per
 * staged block, recorded in the session's `providerState`; complete commits exactly that list (the moment the
 * blob appears). A writer that lost its lease and writes late with an older state stages under ids nobody
 * references, so it can never change committed bytes (a retried chunk likewise adds unreferenced blocks that
 * Azure drops at commit). `overwrite: false` commits with `If-None-Match: *`. Each block is buffered in memory up
 * to `blockSize`, with at most `maxConcurrentBlocks` block uploads in flight across the provider.
 *
 * Limits: 50,000 blocks per blob (every chunk adds at least one block); `presign` needs a shared-key credential
 * (`NotSupportedError` otherwise); abort discards staged blocks only where no blob is committed at the path and no
 * other upload stages there — otherwise Azure discards them itself after about a week (pair it with a shorter
 * session expiry).
 * @publicApi
 */
export class AzureBlobStorageProvider extends DelegatingStorageProvider {
  /** The container client in use. */
  readonly container: ContainerClient;
  private readonly stager: AzureBlockStager;
  protected readonly uploads: AzureResumableUploads;

  constructor(options: AzureBlobStorageOptions) {
    super();
    if (options.containerClient) {
      this.container = options.containerClient;
    } else if (options.connectionString && options.containerName) {
      const service = BlobServiceClient.fromConnectionString(options.connectionString, options.pipelineOptions);
      this.container = service.getContainerClient(options.containerName);
    } else {
      const message = 'AzureBlobStorageProvider needs containerClient, or connectionString and containerName';
      throw new InvalidRequestError(message);
    }
    this.stager = new AzureBlockStager(options.blockSize ?? 8 * MiB, new Semaphore(options.maxConcurrentBlocks ?? 4));
    this.uploads = new AzureResumableUploads(this.container, this.stager, this);
  }

  async put(path: string, body: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    validateBlobPath(path);
    const metadata = encodeHeaderMetadata(normalizeMetadata(options.metadata));
    const headers = { blobContentType: options.contentType ?? undefined };
    const client = this.blob(path);
    // Small bodies are one Put Blob; larger ones are staged as blocks (bounded memory) under a one-off tag.
    const tag = uploadTag(randomBytes(16).toString('hex'));
    const staged = await this.stager.stage(body, { client, tag, offset: 0, existingBlocks: 0, keepShortBody: true });
    const short = staged.shortBody;
    if (short) {
      await azureCall('upload', () => client.upload(short, short.length, { blobHTTPHeaders: headers, metadata }));
    } else {
      const ids = staged.blocks.map(([, key]) => blockIdOf(tag, key));
      await azureCall('commitBlockList', () => client.commitBlockList(ids, { blobHTTPHeaders: headers, metadata }));
    }
    return requireInfo(this, path);
  }

  async get(path: string, range?: ByteRange): Promise<BlobReadResult> {
    return readRemoteBlob(this, path, range, async (info, served) => {
      const count = served ? served.end - served.start + 1 : undefined;
      // The blob must be the one `info` describes, not a newer version written in between.
      const conditions = info.etag ? { ifMatch: info.etag } : undefined;
      const download = () => this.blob(path).download(served?.start ?? 0, count, { conditions });
      const out = await azureCall('download', download, path);
      return out.readableStreamBody as Readable;
    });
  }

  async stat(path: string): Promise<BlobInfo | null> {
    validateBlobPath(path);
    try {
      const properties = await this.blob(path).getProperties();
      return remoteBlobInfo(path, { ...properties, size: properties.contentLength });
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw toStorageError(error, 'getProperties');
    }
  }

  async delete(path: string): Promise<boolean> {
    validateBlobPath(path);
    const out = await azureCall('delete', () => this.blob(path).deleteIfExists());
    return out.succeeded;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    return listBlobs(this.container, prefix, options);
  }

  async copy(from: string, to: string): Promise<BlobInfo> {
    validateBlobPath(to);
    const source = await requireInfo(this, from);
    // Same-account copy: the service copies server-side, content type and metadata included.
    const sourceConditions = source.etag ? { ifMatch: source.etag } : undefined;
    const copying = async () => {
      const poller = await this.blob(to).beginCopyFromURL(this.blob(from).url, { sourceConditions, intervalInMs: 200 });
      return poller.pollUntilDone();
    };
    await azureCall('copy', copying, from);
    return requireInfo(this, to);
  }

  async move(from: string, to: string): Promise<BlobInfo> {
    // Azure has no rename: copy, then delete the source.
    const info = await this.copy(from, to);
    if (from !== to) await azureCall('delete', () => this.blob(from).deleteIfExists());
    return info;
  }

  override async presign(path: string, options: PresignOptions): Promise<string> {
    return presignBlob(this.container, path, options);
  }

  async ping(): Promise<void> {
    const exists = await azureCall('exists', () => this.container.exists());
    if (!exists) throw new StorageUnavailableError(`Azure container ${this.container.containerName} does not exist`);
  }

  private blob(path: string): BlockBlobClient {
    return this.container.getBlockBlobClient(path);
  }
}
