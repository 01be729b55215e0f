import {
  OffsetMismatchError,
  UploadInterruptedError,
  UploadRejectedError,
  ValiBlobError,
} from '../errors/vali-blob.errors';
import type { UploadLease } from '../locking/upload-locker';
import { SessionPatch, UploadSession, UploadStatus } from '../sessions/upload-session.model';
import type { WriteChunkResult } from '../storage/storage-provider';
import { ChunkMeter } from './chunk-meter';
import { ChunkLockTaker, ChunkRun, LockedChunk } from './upload-chunk.lock';
import type { DigestState } from './digest/digest-state';
import type { ChunkResult, UploadChunkInput } from './resumable-upload.types';
import { IncrementalDigest } from './upload-checksum';
import { UploadChecksumVerifier } from './upload-checksum.verifier';
import { UploadEngineContext } from './upload-engine.context';
import { checkSize, checkWritable, chunkTooLarge, validateChunkPosition } from './upload-input';
import { toSessionView } from './upload-session.view';
import { UploadShutdownDrain } from './upload-shutdown.drain';
import { UPLOAD_EVENTS } from './upload.events';
import { UploadPublisher } from './upload.publisher';
import { UploadRejector } from './upload-rejector';
import { WholeFileDigestCache } from './whole-file-digest.cache';
import { ShutdownInterruptedError, WriteSlots } from './write-slots';

/**
 * Writes one chunk: validates it, takes a write slot and the per-upload lock, streams the body through a
 * `ChunkMeter` (limit, checksums, whole-file hash) into the provider, then advances the offset with the store's
 * fenced compare-and-set and emits `upload.chunk`. The body is always consumed or released, whatever happens.
 */
export class UploadChunkWriter {
  private readonly locks: ChunkLockTaker;

  constructor(
    private readonly ctx: UploadEngineContext,
    private readonly writeSlots: WriteSlots,
    private readonly shutdown: UploadShutdownDrain,
    private readonly digests: WholeFileDigestCache,
    private readonly publisher: UploadPublisher,
    private readonly rejector: UploadRejector,
  ) {
    this.locks = new ChunkLockTaker(ctx, writeSlots);
  }

  /** Store one chunk at `input.offset` (see `ResumableUploadService.uploadChunk`). */
  async write(input: UploadChunkInput): Promise<ChunkResult> {
    const { body } = input;
    const run: ChunkRun = { releaseRequested: false };
    let locked: LockedChunk;
    try {
      validateChunkPosition(input.offset, input.contentLength);
      const taken = await this.locks.take(input, run);
      if ('answer' in taken) {
        body.resume();
        return taken.answer;
      }
      locked = taken;
    } catch (error) {
      body.resume();
      throw error;
    }
    const { lease, slot } = locked;
    try {
      return await this.writeLocked(input, lease, run, locked.session);
    } catch (error) {
      if (run.meter && !run.meter.destroyed) run.meter.destroy();
      body.resume();
      throw error;
    } finally {
      if (run.meter) this.shutdown.untrack(run.meter);
      if (run.fileHash) this.digests.release(input.uploadId, run.fileHash);
      if (run.onLeaseLost) lease.signal.removeEventListener('abort', run.onLeaseLost);
      slot.release();
      await lease.release();
    }
  }

  private async writeLocked(
    input: UploadChunkInput,
    lease: UploadLease,
    run: ChunkRun,
    read?: UploadSession,
  ): Promise<ChunkResult> {
    const { uploadId, body } = input;
    const { options } = this.ctx;
    // Under the lock the committed state is what counts: the read `lockFree` made under it, or a fresh one.
    const session = read ?? (await this.ctx.requireSession(uploadId, input));
    const shortcut = checkWritable(session, input);
    if (shortcut) {
      body.resume();
      return shortcut;
    }
    const { policy } = this.ctx;
    const subject = policy.subjectOf(session);
    // The subject's own maximum (policy) matters while the length is open or being declared.
    const maxUploadSize =
      session.totalSize === null
        ? await policy.maxUploadSizeFor(subject, options.maxUploadSize)
        : options.maxUploadSize;
    const totalSize = checkSize(session, input, maxUploadSize);
    const provider = this.ctx.registry.get(session.provider);
    const limit = (totalSize ?? maxUploadSize) - session.uploadedBytes;

    const checksum = new UploadChecksumVerifier(input.checksum, options.checksumAlgorithms);
    const fileHash = this.digests.fork(uploadId, session.uploadedBytes);
    run.fileHash = fileHash;
    const digests: IncrementalDigest[] = [...checksum.digests];
    if (fileHash) {
      // The whole-file hash runs elsewhere (a digest worker by default); the meter only waits on its backlog.
      digests.push({
        update: (data) => fileHash.update(data),
        digest: () => Buffer.alloc(0),
        backlog: () => fileHash.backlog(),
      });
    }
    // The policy's first-bytes stage watches the chunk that completes the sniffing window.
    const headTap = policy.head.tap(session);
    if (headTap) digests.push(headTap);

    const meter = new ChunkMeter(body, {
      maxBytes: limit,
      digests,
      idleTimeoutMs: options.idleTimeoutMs,
      onExceeded: () => chunkTooLarge(totalSize, maxUploadSize),
    });
    run.meter = meter;
    if (run.releaseRequested) meter.interrupt();
    this.shutdown.track(meter);
    // A lease lost mid-body (heartbeat failed, expired during a pause) means another writer may own the
    // upload now: stop writing at once; the fenced advance then refuses whatever this request stored.
    run.onLeaseLost = () => meter.interrupt();
    lease.signal.addEventListener('abort', run.onLeaseLost, { once: true });
    if (lease.signal.aborted) meter.interrupt();

    let policyPatch: SessionPatch = {};
    let rejection: UploadRejectedError | undefined;
    // Runs after the body was read and before the provider commits: a throw here discards the whole chunk.
    const beforeCommit = async (bytes: number) => {
      await checksum.verify(meter.endReason, () => this.interruption(session.uploadedBytes));
      const end = session.uploadedBytes + bytes;
      // Deferred length: the quota holds the bytes streamed so far (or the length this request declares).
      if (session.totalSize === null) await policy.quota.grow(session, subject, totalSize ?? end);
      if (!headTap) return;
      try {
        policyPatch = await policy.head.judge(session, headTap, end, totalSize);
      } catch (error) {
        if (error instanceof UploadRejectedError && error.final) rejection = error;
        throw error;
      }
    };
    let written: WriteChunkResult;
    try {
      written = await this.ctx.providerCall(session, 'writeChunk', () =>
        provider.writeChunk(session.providerState ?? {}, session.uploadedBytes, meter, {
          expectedLength: input.contentLength ?? null,
          isFinal: totalSize !== null && session.uploadedBytes + (input.contentLength ?? -1) === totalSize,
          beforeCommit,
        }),
      );
    } catch (error) {
      // The policy refused the first bytes: the chunk is already discarded; the upload ends here.
      if (rejection && error === rejection) throw await this.rejector.reject(session, lease, rejection);
      throw error;
    }
    return this.advance(input, { session, totalSize, lease, written, meter, fileHash, policyPatch });
  }

  /** Move the offset past the stored bytes (fenced compare-and-set), then report or finish the upload. */
  private async advance(input: UploadChunkInput, step: WrittenChunk): Promise<ChunkResult> {
    const { session, totalSize, lease, written, meter, fileHash, policyPatch } = step;
    const { uploadId } = session;
    const newOffset = session.uploadedBytes + written.bytesWritten;
    const now = Date.now();
    const patch: SessionPatch = {
      // What the policy's first-bytes stage decided (sniffed type, the window of a tiny first chunk).
      ...policyPatch,
      uploadedBytes: newOffset,
      providerState: written.state,
      status: UploadStatus.InProgress,
      updatedAt: now,
      expiresAt: now + this.ctx.options.sessionExpiration,
      fence: lease.fence,
    };
    if (totalSize !== session.totalSize) patch.totalSize = totalSize;
    const updated = await this.ctx.storeCall(session, 'advance', () =>
      this.ctx.store.advance(uploadId, session.uploadedBytes, patch),
    );
    if (!updated) {
      this.digests.forget(uploadId);
      const current = await this.ctx.requireSession(uploadId, input);
      throw new OffsetMismatchError(current.uploadedBytes, input.offset);
    }
    this.locks.wrote(uploadId);
    if (fileHash && written.bytesWritten === meter.bytes) this.digests.remember(uploadId, newOffset, fileHash);
    else if (written.bytesWritten > 0) this.digests.forget(uploadId);
    this.ctx.events.emit(
      UPLOAD_EVENTS.chunk,
      {
        session: toSessionView(updated),
        offset: session.uploadedBytes,
        bytes: written.bytesWritten,
      },
      updated.ownerId,
    );
    this.ctx.telemetry.received(written.bytesWritten, session, input.transport);

    const endReason = meter.endReason ?? 'eof';
    if (endReason === 'interrupted') throw this.interruption(newOffset);
    if (input.autoComplete && updated.totalSize !== null && newOffset === updated.totalSize) {
      // Still under this chunk's lease: the upload is published before anyone else can write.
      const publish = () => this.publisher.publishLocked(updated, lease);
      const completed = await this.ctx.telemetry.complete(input, publish, true);
      return { session: completed.session, bytesWritten: written.bytesWritten, endReason };
    }
    return { session: toSessionView(updated), bytesWritten: written.bytesWritten, endReason };
  }

  /**
   * The error for a body this engine stopped reading: during shutdown a retryable 503 (the client resumes at
   * `offset`, here after a restart or on another instance); otherwise a newer request for the upload took over.
   */
  private interruption(offset: number): ValiBlobError {
    return this.writeSlots.shuttingDown ? new ShutdownInterruptedError(offset) : new UploadInterruptedError(offset);
  }
}

/** A chunk the provider has stored, before the offset moved. */
interface WrittenChunk {
  session: UploadSession;
  totalSize: number | null;
  lease: UploadLease;
  written: WriteChunkResult;
  meter: ChunkMeter;
  fileHash: DigestState | undefined;
  policyPatch: SessionPatch;
}
