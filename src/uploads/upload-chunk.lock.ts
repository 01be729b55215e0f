import type { UploadLease } from '../locking/upload-locker';
import type { UploadSession } from '../sessions/upload-session.model';
import type { ChunkMeter } from './chunk-meter';
import type { DigestState } from './digest/digest-state';
import { RecentUploads } from './recent-uploads';
import type { ChunkResult, UploadChunkInput } from './resumable-upload.types';
import { isUploadId, UploadEngineContext } from './upload-engine.context';
import { checkSize, checkWritable } from './upload-input';
import { WriteSlot, WriteSlots } from './write-slots';

/**
 * What one chunk request shares with its lock's release callback, which may fire before the body is metered: a
 * release requested early interrupts the meter as soon as it exists.
 */
export interface ChunkRun {
  meter?: ChunkMeter;
  releaseRequested: boolean;
  onLeaseLost?: () => void;
  /** This chunk's copy of the whole-file hash; freed after the request unless the cache kept it. */
  fileHash?: DigestState;
}

/**
 * Takes a chunk's per-upload lock and write slot with as few store round trips as the situation allows (issue
 * 17): the lock first and one read under it for uploads this instance lately wrote, otherwise check first and
 * then wait for the lock.
 */
export class ChunkLockTaker {
  /** Uploads that take the lock before their read (see `RecentUploads` for why only these). */
  private readonly recent = new RecentUploads();

  constructor(
    private readonly ctx: UploadEngineContext,
    private readonly writeSlots: WriteSlots,
  ) {}

  /** The lock and slot for `input`'s chunk, or the answer the checks alone give. */
  async take(input: UploadChunkInput, run: ChunkRun): Promise<LockedChunk | ChunkAnswer> {
    return (await this.lockFree(input, run)) ?? (await this.lockBusy(input, run));
  }

  /** A chunk of `uploadId` was stored for its owner: its next chunks may take the lock first. */
  wrote(uploadId: string): void {
    this.recent.add(uploadId);
  }

  /**
   * The usual, uncontended case: take the free lock at once (no wait, no release request), then ONE read under it
   * makes the ownership, status, offset and size checks. `null` when the lock is busy, or the id is not one this
   * instance wrote a chunk of lately (`RecentUploads`): the caller then takes `lockBusy`, which checks first.
   */
  private async lockFree(input: UploadChunkInput, run: ChunkRun): Promise<LockedChunk | ChunkAnswer | null> {
    const { uploadId } = input;
    if (!isUploadId(uploadId) || !this.recent.has(uploadId)) return null;
    const lease = await this.ctx.tryAcquire(uploadId, 'chunk', releaseRequestedOf(run));
    if (!lease) return null;
    try {
      const session = await this.ctx.requireSession(uploadId, input);
      const answer = checkWritable(session, input);
      if (answer) {
        await lease.release();
        return { answer };
      }
      checkSize(session, input, this.ctx.options.maxUploadSize);
      // Taken after the read (the resume offset of a shutdown answer is the committed one); nothing waits here.
      return { lease, slot: this.writeSlots.take(session.uploadedBytes), session };
    } catch (error) {
      await lease.release();
      throw error;
    }
  }

  /**
   * The lock is busy: check first (ownership, so only a verified owner can ask the holder to let go; a stale
   * retry gets its 409 at once), then wait for the lock. The session is read again under it (`writeLocked`).
   */
  private async lockBusy(input: UploadChunkInput, run: ChunkRun): Promise<LockedChunk | ChunkAnswer> {
    const { uploadId } = input;
    const seen = await this.ctx.requireSession(uploadId, input);
    const answer = checkWritable(seen, input);
    if (answer) return { answer };
    checkSize(seen, input, this.ctx.options.maxUploadSize);
    // Counted from here to the end of the write: the lock wait and the body read are what a slow client holds.
    const slot = this.writeSlots.take(seen.uploadedBytes);
    try {
      return { lease: await this.ctx.acquire(uploadId, 'chunk', releaseRequestedOf(run)), slot };
    } catch (error) {
      slot.release();
      throw error;
    }
  }
}

/** The release callback of a chunk's lease: a newer request asked; interrupt the body read (now or once metered). */
function releaseRequestedOf(run: ChunkRun): () => void {
  return () => {
    run.releaseRequested = true;
    run.meter?.interrupt();
  };
}

/** A chunk holding its lock and write slot; `session` when it was already read under the lock. */
export interface LockedChunk {
  lease: UploadLease;
  slot: WriteSlot;
  session?: UploadSession;
}

/** A chunk answered by the checks alone (an empty retry at the end of a finished upload). */
export interface ChunkAnswer {
  answer: ChunkResult;
}
