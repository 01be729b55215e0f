import { Inject, Injectable } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { BlobExistsError, OffsetMismatchError, UploadCompleteError, UploadGoneError } from '../errors/vali-blob.errors';
import { UploadLocker } from '../locking/upload-locker';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { ACTIVE_STATUSES, UploadSession, UploadStatus } from '../sessions/upload-session.model';
import { validateBlobPath } from '../storage/blob-path';
import { toBlobMetadata } from '../storage/storage-helpers';
import { StorageRegistry } from '../storage/storage.registry';
import { VALIBLOB_OPTIONS } from '../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../vali-blob.options';
import { resolveConflictPolicy } from './conflict-policy';
import { validateContentType } from './content-type';
import { assertInOwnerSpace } from './owner-scope';
import type {
  CallerContext,
  ChunkResult,
  CompleteResult,
  IncludeProviderState,
  StartUploadInput,
  UploadChunkInput,
  UploadSessionRecord,
} from './resumable-upload.types';
import { UploadChunkWriter } from './upload-chunk.writer';
import { UploadEngineContext } from './upload-engine.context';
import { validateMetadata, validateTotalSize } from './upload-input';
import { toSessionView, UploadSessionView } from './upload-session.view';
import { UploadShutdownDrain } from './upload-shutdown.drain';
import { publicMetadata } from './upload-transport';
import { UPLOAD_EVENTS, UploadEvents } from './upload.events';
import { WholeFileDigestCache } from './whole-file-digest.cache';
import { WriteSlots } from './write-slots';
import { UploadPublisher } from './upload.publisher';

export type {
  CallerContext,
  ChunkResult,
  CompleteResult,
  IncludeProviderState,
  StartUploadInput,
  UploadChunkInput,
  UploadSessionRecord,
} from './resumable-upload.types';

/**
 * The resumable upload engine shared by the tus and REST controllers and usable directly. It tells the story
 * of an upload — start, chunk, complete, abort, status — and leaves the details to its rooms: the chunk write
 * (`UploadChunkWriter`, with `UploadChecksumVerifier`), publishing (`UploadPublisher`), the whole-file hash
 * (`WholeFileDigestCache`), shutdown draining (`UploadShutdownDrain`) and input validation (`upload-input`).
 *
 * Invariants: a chunk is accepted only at the session's current offset; bytes are made durable by the
 * provider before the offset advances through the store's atomic `advance`; a rejected chunk (checksum,
 * size) leaves nothing behind; every transition fires its event exactly once (only the caller whose
 * compare-and-set won emits).
 * @publicApi
 */
@Injectable()
export class ResumableUploadService implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly ctx: UploadEngineContext;
  /** In-flight write cap (`maxConcurrentWrites`) and the shutdown flag. */
  private readonly writeSlots: WriteSlots;
  private readonly shutdown: UploadShutdownDrain;
  private readonly digests: WholeFileDigestCache;
  private readonly publisher: UploadPublisher;
  private readonly chunks: UploadChunkWriter;

  constructor(
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
    private readonly store: ResumableSessionStore,
    private readonly registry: StorageRegistry,
    private readonly locker: UploadLocker,
    private readonly events: UploadEvents,
  ) {
    this.ctx = new UploadEngineContext(options, store, registry, locker, events);
    this.writeSlots = new WriteSlots(options.maxConcurrentWrites);
    this.shutdown = new UploadShutdownDrain(this.writeSlots, this.ctx.logger);
    this.digests = new WholeFileDigestCache(options.wholeFileChecksum);
    this.publisher = new UploadPublisher(this.ctx, this.digests);
    this.chunks = new UploadChunkWriter(this.ctx, this.writeSlots, this.shutdown, this.digests, this.publisher);
  }

  /**
   * Throw `TooManyWritesError` (503 + Retry-After) when a chunk write could not start now, or
   * `ShutdownInterruptedError` during shutdown. Lets tus creation-with-upload refuse before creating a session.
   */
  assertWriteCapacity(): void {
    this.writeSlots.assertAvailable(0);
  }

  /** Create an upload session. */
  async start(input: StartUploadInput): Promise<UploadSessionView> {
    const totalSize = validateTotalSize(input.totalSize, this.options.maxUploadSize);
    const provider = this.registry.get(input.provider);
    const uploadId = randomBytes(18).toString('base64url');
    const path = validateBlobPath(
      input.path ?? (input.pathFor ? await input.pathFor(uploadId) : `uploads/${uploadId}`),
    );
    await this.ctx.providerCall(() => provider.assertCreatable(path));
    const metadata = validateMetadata(input.metadata);
    const contentType = validateContentType(input.contentType);
    const conflict = resolveConflictPolicy(input.conflict, input.overwrite);
    assertInOwnerSpace(this.options, input.owner, path);
    // An early answer only: the rule holds at complete, where the provider publishes atomically.
    if (conflict === 'fail' && (await this.ctx.providerCall(() => provider.exists(path)))) {
      throw new BlobExistsError(path);
    }

    const blobMetadata = toBlobMetadata(publicMetadata(metadata));
    const providerState = await this.ctx.providerCall(() =>
      provider.beginUpload({ uploadId, path, totalSize, contentType, metadata: blobMetadata }),
    );
    const now = Date.now();
    const session: UploadSession = {
      uploadId,
      path,
      provider: provider.name,
      totalSize,
      uploadedBytes: 0,
      contentType,
      metadata,
      ownerId: input.owner ?? null,
      status: UploadStatus.Pending,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + this.options.sessionExpiration,
      version: 1,
      providerState,
      checksum: null,
      partial: input.partial ?? false,
      parts: input.parts ? [...input.parts] : null,
      fence: 0,
      conflict,
    };
    try {
      await this.ctx.storeCall(() => this.store.save(session));
    } catch (error) {
      await provider.abortUpload(providerState).catch(() => undefined);
      throw error;
    }
    this.digests.begin(session);
    this.events.emit(UPLOAD_EVENTS.started, { session: toSessionView(session) });
    if (totalSize === 0 && input.autoComplete) return (await this.complete(uploadId)).session;
    return toSessionView(session);
  }

  /**
   * Store one chunk at `offset`. See the class comment for the guarantees: checked against the session and the
   * limits, written under the upload's lock through the provider, then the offset advances (`UploadChunkWriter`).
   */
  uploadChunk(input: UploadChunkInput): Promise<ChunkResult> {
    return this.chunks.write(input);
  }

  /** Shutdown, step 1 (`app.close()`): stop taking chunks, let in-flight ones persist (`UploadShutdownDrain`). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.shutdown.drain();
  }

  /** Shutdown, step 2: release locks, closing the locker only when the library created it (no `lock.locker`). */
  async onApplicationShutdown(): Promise<void> {
    if (!this.options.lock.locker) await this.locker.close();
  }

  /** Current state of an upload. Completed and aborted uploads stay readable until retention ends. */
  async getStatus(uploadId: string, caller: CallerContext = {}): Promise<UploadSessionView> {
    const session = await this.ctx.requireSession(uploadId, caller);
    if (isActive(session) && session.expiresAt <= Date.now()) throw new UploadGoneError(uploadId, 'expired');
    return toSessionView(session);
  }

  /**
   * The stored session for in-process callers (tus, cleanup, tests), owner-checked like every call. Its
   * `providerState` (part manifests, staging ids) is left out unless `include.providerState` asks for it.
   */
  getSession(uploadId: string, caller?: CallerContext): Promise<UploadSessionRecord>;
  getSession(uploadId: string, caller: CallerContext, include: IncludeProviderState): Promise<UploadSession>;
  async getSession(
    uploadId: string,
    caller: CallerContext = {},
    include?: IncludeProviderState,
  ): Promise<UploadSession | UploadSessionRecord> {
    const session = await this.ctx.requireSession(uploadId, caller);
    if (include?.providerState) return session;
    const { providerState: _providerState, ...record } = session;
    return record;
  }

  /**
   * Publish the upload at its path once every byte is stored, recording the whole-file sha256. Calling it
   * again returns the same result.
   */
  async complete(uploadId: string, caller: CallerContext = {}): Promise<CompleteResult> {
    const seen = await this.ctx.requireSession(uploadId, caller);
    if (seen.status === UploadStatus.Complete) return this.publisher.completedResult(seen);
    const lease = await this.ctx.acquire(uploadId);
    try {
      const session = await this.ctx.requireSession(uploadId, caller);
      return await this.publisher.publishLocked(session, lease);
    } finally {
      await lease.release();
    }
  }

  /** Abort an unfinished upload and free its provider-side data. The session stays as a tombstone. */
  async abort(uploadId: string, caller: CallerContext & { allowFinished?: boolean } = {}): Promise<UploadSessionView> {
    await this.ctx.requireSession(uploadId, caller);
    const lease = await this.ctx.acquire(uploadId);
    try {
      for (let attempt = 0; ; attempt++) {
        const session = await this.ctx.requireSession(uploadId, caller);
        if (session.status === UploadStatus.Aborted) throw new UploadGoneError(uploadId, 'aborted');
        if (session.status === UploadStatus.Complete) {
          if (!caller.allowFinished) throw new UploadCompleteError(uploadId);
          return await this.deleteFinished(session);
        }
        const now = Date.now();
        // Mark aborted first, keeping providerState, so a failure to free the data leaves a tombstone that
        // cleanup can still free; then free it and clear the state.
        const aborted = await this.ctx.storeCall(() =>
          this.store.advance(uploadId, session.uploadedBytes, {
            status: UploadStatus.Aborted,
            updatedAt: now,
            expiresAt: now + this.options.completedRetention,
            fence: lease.fence,
          }),
        );
        if (!aborted) {
          if (attempt < 3) continue;
          throw new OffsetMismatchError(session.uploadedBytes, session.uploadedBytes);
        }
        this.digests.forget(uploadId);
        await this.freeProviderData(aborted);
        this.events.emit(UPLOAD_EVENTS.aborted, { session: toSessionView(aborted) });
        return toSessionView(aborted);
      }
    } finally {
      await lease.release();
    }
  }

  /**
   * Free the provider-side data of a session and clear its `providerState` (used by abort and cleanup).
   * Errors propagate so callers can count them; the state is kept until freeing succeeded.
   */
  async freeProviderData(session: UploadSession): Promise<void> {
    if (!session.providerState) return;
    const provider = this.registry.get(session.provider);
    await this.ctx.providerCall(() => provider.abortUpload(session.providerState!));
    const cleared = { ...session, providerState: null, updatedAt: Date.now() };
    await this.ctx.storeCall(() => this.store.update(cleared));
  }

  private async deleteFinished(session: UploadSession): Promise<UploadSessionView> {
    const provider = this.registry.get(session.provider);
    await this.ctx.providerCall(() => provider.delete(session.path));
    const now = Date.now();
    const tombstone = {
      ...session,
      status: UploadStatus.Aborted,
      updatedAt: now,
      expiresAt: now + this.options.completedRetention,
    };
    const updated = await this.ctx.storeCall(() => this.store.update(tombstone));
    const view = toSessionView(updated ?? session);
    this.events.emit(UPLOAD_EVENTS.aborted, { session: view });
    return view;
  }
}

function isActive(session: UploadSession): boolean {
  return ACTIVE_STATUSES.includes(session.status);
}
