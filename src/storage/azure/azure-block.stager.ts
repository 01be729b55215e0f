import type { BlockBlobClient } from '@azure/storage-blob';
import { Readable } from 'node:stream';
import { SizeExceededError } from '../../errors/vali-blob.errors';
import type { Semaphore } from '../common/semaphore';
import { AZURE_MAX_BLOCKS, blockIdOf, newBlockKey } from './azure-block-id';
import { toStorageError } from './azure-errors';
import type { BlockEntry } from './azure-upload-state';

/** What `AzureBlockStager.stage` staged. */
export interface StagedBlocks {
  /** The blocks staged, in offset order (none when `shortBody` is set). */
  blocks: BlockEntry[];
  /** Bytes read from the body. */
  written: number;
  /** With `keepShortBody`: the whole body, when it ended within its first block (nothing was staged). */
  shortBody?: Buffer;
}

/** Where and how `AzureBlockStager.stage` stages a body. */
export interface StageRequest {
  client: BlockBlobClient;
  /** The per-upload tag mixed into block ids. */
  tag: string;
  /** Offset of the body's first byte within the upload. */
  offset: number;
  /** Blocks the upload already has (the 50,000-block limit counts them). */
  existingBlocks: number;
  beforeCommit?: (written: number) => void | Promise<void>;
  keepShortBody?: boolean;
}

/** Cuts bodies into blocks and stages them, with a provider-wide cap on block uploads in flight. */
export class AzureBlockStager {
  constructor(
    private readonly blockSize: number,
    private readonly limiter: Semaphore,
  ) {}

  /**
   * Stage `body` as blocks of exactly `blockSize` bytes (the last one shorter), each under a fresh key. Reading
   * waits for a permit before each block upload, so memory stays at about (permits + 1) × blockSize. With
   * `keepShortBody`, a body that ends within its first block is returned instead of staged (one Put Blob).
   */
  async stage(body: Readable, request: StageRequest): Promise<StagedBlocks> {
    const { client, tag, offset, existingBlocks, beforeCommit } = request;
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
      if (request.keepShortBody && blocks.length === 0) {
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
}
