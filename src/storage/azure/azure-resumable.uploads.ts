import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { Readable } from 'node:stream';
import {
  BlobExistsError,
  InvalidRequestError,
  NotSupportedError,
  StorageUnavailableError,
} from '../../errors/vali-blob.errors';
import { validateBlobPath } from '../blob-path';
import { assertChunkOffset, checkBeforeReading } from '../common/chunk-start';
import { encodeHeaderMetadata } from '../common/header-metadata';
import { BlobStat, requireInfo } from '../common/require-info';
import type { ResumableUploads } from '../common/resumable-uploads';
import { normalizeMetadata } from '../storage-helpers';
import type {
  BeginUploadRequest,
  BlobInfo,
  CompleteUploadRequest,
  ResumableState,
  WriteChunkOptions,
} from '../storage-provider';
import { blockIdOf, uploadTag } from './azure-block-id';
import type { AzureBlockStager } from './azure-block.stager';
import { azureCall, isExistsConflict, statusOf, toStorageError } from './azure-errors';
import { AzureUploadState, readState } from './azure-upload-state';

/**
 * The resumable uploads of the Azure provider (`beginUpload` … `abortUpload`): blocks staged on the target blob
 * under ids made of the per-upload tag and a fresh random key, listed in the manifest (`AzureUploadState`);
 * complete commits exactly that list.
 */
export class AzureResumableUploads implements ResumableUploads {
  constructor(
    private readonly container: ContainerClient,
    private readonly stager: AzureBlockStager,
    /** Where the completed blob's info comes from (the provider's `stat`). */
    private readonly blobs: BlobStat,
  ) {}

  /** An empty manifest; nothing exists on Azure until the first block is staged. */
  async begin(request: BeginUploadRequest): Promise<AzureUploadState> {
    validateBlobPath(request.path);
    if (typeof request.uploadId !== 'string' || request.uploadId === '') {
      throw new InvalidRequestError('Malformed upload id');
    }
    return { v: 2, path: request.path, tag: uploadTag(request.uploadId), blocks: [], size: 0 };
  }

  /** Stage a chunk as new blocks; returns the next manifest. */
  async write(raw: ResumableState, offset: number, body: Readable, options: WriteChunkOptions) {
    const state = checkBeforeReading(body, () => {
      const read = readState(raw);
      assertChunkOffset(offset, read.size);
      return read;
    });
    const staged = await this.stager.stage(body, {
      client: this.blob(state.path),
      tag: state.tag,
      offset,
      existingBlocks: state.blocks.length,
      beforeCommit: options.beforeCommit,
    });
    const blocks = [...state.blocks, ...staged.blocks];
    const next: AzureUploadState = { ...state, blocks, size: offset + staged.written };
    return { state: next, bytesWritten: staged.written };
  }

  /** Commit the manifest's block list (`If-None-Match: *` with `overwrite: false`); idempotent. */
  async complete(raw: ResumableState, request: CompleteUploadRequest): Promise<BlobInfo> {
    const state = readState(raw);
    if (request.path !== state.path) {
      // Staged blocks belong to the blob they were staged on; committing them under another name is impossible.
      const feature = 'completing an upload at another path than it began with';
      throw new NotSupportedError(feature, 'the Azure storage provider');
    }
    if (state.size !== request.totalSize) {
      const message = `Azure holds ${state.size} bytes of this upload, expected ${request.totalSize}`;
      throw new StorageUnavailableError(message);
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
        if (await this.committedListIs(client, ids)) return requireInfo(this.blobs, state.path);
        // The staged blocks stay uncommitted, so the caller may retry (after the other blob is gone).
        throw new BlobExistsError(request.path);
      }
      throw toStorageError(error, 'commitBlockList');
    }
    return requireInfo(this.blobs, state.path);
  }

  /**
   * Free the staged blocks. Azure has no call that drops uncommitted blocks alone, but committing a block list
   * discards every uncommitted block of that blob name. So, when NO blob is committed at the path (the usual case
   * for a new upload): commit an empty list with `If-None-Match: *` — refused if a blob exists or was just
   * published, so a blob is never touched — then delete that empty blob with `If-Match` on its etag, so a blob
   * someone committed in between stays. When a committed blob already sits at the path (an overwrite upload),
   * discarding the blocks would mean rewriting that blob: they are left to Azure, which drops uncommitted blocks
   * after about 7 days.
   */
  async abort(raw: ResumableState): Promise<void> {
    const state = readState(raw);
    if (state.blocks.length === 0) return;
    const client = this.blob(state.path);
    // Another unfinished upload staging to the same name (possible when paths collide) would lose its blocks too:
    // leave them all to Azure rather than break a live upload.
    if (!(await this.onlyOurBlocksStaged(client, state.tag))) return;
    let etag: string | undefined;
    try {
      ({ etag } = await client.commitBlockList([], { conditions: { ifNoneMatch: '*' } }));
    } catch (error) {
      if (isExistsConflict(error)) return;
      throw toStorageError(error, 'commitBlockList');
    }
    try {
      await client.delete({ conditions: { ifMatch: etag } });
    } catch (error) {
      // 404: already gone; 412: a blob was committed over our empty one meanwhile, and it is not ours to delete.
      if (statusOf(error) === 404 || statusOf(error) === 412) return;
      throw toStorageError(error, 'delete');
    }
  }

  /** Whether every uncommitted block of the blob name carries this upload's tag (a 404: nothing is staged). */
  private async onlyOurBlocksStaged(client: BlockBlobClient, tag: string): Promise<boolean> {
    try {
      const list = await client.getBlockList('uncommitted');
      return (list.uncommittedBlocks ?? []).every((b) =>
        Buffer.from(b.name, 'base64').toString('utf8').startsWith(tag),
      );
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw toStorageError(error, 'getBlockList');
    }
  }

  /** Whether the committed block list of the blob is exactly `ids` (a blob that is ours). */
  private async committedListIs(client: BlockBlobClient, ids: string[]): Promise<boolean> {
    const list = await azureCall('getBlockList', () => client.getBlockList('committed'));
    const committed = (list.committedBlocks ?? []).map((b) => b.name);
    return ids.length > 0 && committed.length === ids.length && committed.every((id, i) => id === ids[i]);
  }

  private blob(path: string): BlockBlobClient {
    return this.container.getBlockBlobClient(path);
  }
}
