import { Inject, Injectable } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { BlobExistsError, UploadGoneError } from '../errors/vali-blob.errors';
import { UploadLocker } from '../locking/upload-locker';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { ACTIVE_STATUSES, UploadSession, UploadStatus } from '../sessions/upload-session.model';
import { transportOf } from '../policy/policy-metadata';
import { UploadPolicy } from '../policy/upload-policy';
import type { UploadTransport } from '../policy/upload-policy.interfaces';
import { validateBlobPath } from '../storage/blob-path';
import type { StorageProvider } from '../storage/storage-provider';
import { toBlobMetadata } from '../storage/storage-helpers';
import { StorageRegistry } from '../storage/storage.registry';
import { VALIBLOB_OPTIONS } from '../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../vali-blob.options';
import { ConflictPolicy, resolveConflictPolicy } from './conflict-policy';
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
import { UploadExpirySlider } from './upload-expiry.slider';
import { validateMetadata, validateTotalSize } from './upload-input';
import { toSessionView, UploadSessionView } from './upload-session.view';
import { UploadShutdownDrain } from './upload-shutdown.drain';
import { publicMetadata, TRANSPORT_METADATA_KEY } from './upload-transport';
import { UPLOAD_EVENTS, UploadEvents } from './upload.events';
import { WholeFileDigestCache } from './whole-file-digest.cache';
import { WriteSlots } from './write-slots';
import { UploadAborter } from './upload-aborter';
import { UploadPublisher } from './upload.publisher';
import { UploadRejector } from './upload-rejector';

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
  private readonly aborter: UploadAborter;
  private readonly expiry: UploadExpirySlider;

  constructor(
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
    private readonly store: ResumableSessionStore,
    private readonly registry: StorageRegistry,
    private readonly locker: UploadLocker,
    private readonly events: UploadEvents,
    private readonly policy: UploadPolicy,
  ) {
    this.ctx = new UploadEngineContext(options, store, registry, locker, events, policy);
    this.writeSlots = new WriteSlots(options.maxConcurrentWrites);
    this.shutdown = new UploadShutdownDrain(this.writeSlots, this.ctx.logger);
    this.digests = WholeFileDigestCache.create(options.wholeFileChecksum, options.digestThreads);
    this.aborter = new UploadAborter(this.ctx, this.digests);
    this.expiry = new UploadExpirySlider(this.ctx);
    const rejector = new UploadRejector(this.ctx, this.digests, this.aborter);
    this.publisher = new UploadPublisher(this.ctx, this.digests, rejector);
    this.chunks = new UploadChunkWriter(
      this.ctx,
      this.writeSlots,
      this.shutdown,
      this.digests,
      this.publisher,
      rejector,
    );
  }

  /**
   * Throw `TooManyWritesError` (503 + Retry-After) when a chunk write could not start now, or
   * `ShutdownInterruptedError` during shutdown. Lets tus creation-with-upload refuse before creating a session.
   */
  assertWriteCapacity(): void {
    this.writeSlots.assertAvailable(0);
  }

  /**
   * Create an upload session. The policy runs first (`onCreate`, validation on the final path and type, the
   * quota reservation), so a refused upload never exists.
   */
  async start(input: StartUploadInput): Promise<UploadSessionView> {
    // async: a bad input rejects (as before the telemetry wrapper) rather than throwing synchronously.
    const transport = input.transport ?? transportOf({ metadata: input.metadata ?? {} });
    return this.ctx.telemetry.start(transport, () => this.admitAndCreate(input, transport));
  }

  private async admitAndCreate(input: StartUploadInput, transport: UploadTransport): Promise<UploadSessionView> {
    const totalSize = validateTotalSize(input.totalSize, this.options.maxUploadSize);
    const provider = this.registry.get(input.provider);
    const uploadId = randomBytes(18).toString('base64url');
    const requested = validateBlobPath(
      input.path ?? (input.pathFor ? await input.pathFor(uploadId) : `uploads/${uploadId}`),
    );
    const given = validateMetadata(input.metadata);
    const admitted = await this.policy.admit({
      owner: input.owner,
      path: requested,
      provider: provider.name,
      transport,
      totalSize,
      contentType: validateContentType(input.contentType),
      metadata: transport === 'rest' ? { ...given, [TRANSPORT_METADATA_KEY]: 'rest' } : given,
    });
    const { path, contentType } = admitted;
    const upload = { uploadId, ownerId: input.owner };
    await this.ctx.providerCall(upload, 'assertCreatable', () => provider.assertCreatable(path));
    const conflict = resolveConflictPolicy(input.conflict, input.overwrite);
    assertInOwnerSpace(this.options, input.owner, path);
    // An early answer only: the rule holds at complete, where the provider publishes atomically.
    if (conflict === 'fail' && (await this.ctx.providerCall(upload, 'exists', () => provider.exists(path)))) {
      throw new BlobExistsError(path);
    }
    // Reserved before any provider state exists; released again if the session cannot be created.
    const subject = { owner: input.owner, path, provider: provider.name, transport };
    const metadata = { ...admitted.metadata, ...(await this.policy.quota.reserve(subject, uploadId, totalSize ?? 0)) };
    try {
      return await this.create(input, { uploadId, path, provider, totalSize, contentType, metadata, conflict });
    } catch (error) {
      await this.policy.quota.release({ uploadId, metadata, ownerId: input.owner });
      throw error;
    }
  }

  /** Begin the provider upload and store the session (the policy has admitted it). */
  private async create(input: StartUploadInput, admitted: AdmittedUpload): Promise<UploadSessionView> {
    const { uploadId, path, provider, totalSize, contentType, metadata, conflict } = admitted;
    const blobMetadata = toBlobMetadata(publicMetadata(metadata));
    const providerState = await this.ctx.providerCall({ uploadId, ownerId: input.owner }, 'beginUpload', () =>
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
      await this.ctx.storeCall(session, 'save', () => this.store.save(session));
    } catch (error) {
      await provider.abortUpload(providerState).catch(() => undefined);
      throw error;
    }
    this.digests.begin(session);
    this.events.emit(UPLOAD_EVENTS.started, { session: toSessionView(session) }, session.ownerId);
    this.ctx.telemetry.transition('started', session);
    if (totalSize === 0 && input.autoComplete) return (await this.complete(uploadId)).session;
    return toSessionView(session);
  }

  /**
   * Store one chunk at `offset`. See the class comment for the guarantees: checked against the session and the
   * limits, written under the upload's lock through the provider, then the offset advances (`UploadChunkWriter`).
   */
  async uploadChunk(input: UploadChunkInput): Promise<ChunkResult> {
    return this.ctx.telemetry.chunk(input, () => this.chunks.write(input));
  }

  /** Shutdown, step 1 (`app.close()`): stop taking chunks, let in-flight ones persist (`UploadShutdownDrain`). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.shutdown.drain();
  }

  /** Shutdown, step 2: release locks (closing the locker only when the library created it), stop digest threads. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.options.lock.locker) await this.locker.close();
    await this.digests.close();
  }

  /**
   * Current state of an upload, as a client reads it (REST GET). Completed and aborted uploads stay readable until
   * retention ends. Reading an unfinished upload slides its expiry like a chunk does (`readForClient`).
   */
  async getStatus(uploadId: string, caller: CallerContext = {}): Promise<UploadSessionView> {
    const session = await this.ctx.requireSession(uploadId, caller);
    if (isActive(session) && session.expiresAt <= Date.now()) throw new UploadGoneError(uploadId, 'expired');
    return toSessionView(await this.expiry.slide(session));
  }

  /**
   * The session for a client's status read (tus HEAD): like `getSession`, but an unfinished, unexpired upload gets
   * another `sessionExpiration` from now — the client asking is alive. An expired one is returned unchanged (the
   * caller answers 410), never revived. `settle` first ends a write in flight (see `UploadExpirySlider.read`).
   */
  async readForClient(uploadId: string, caller: CallerContext = {}, settle = false): Promise<UploadSessionRecord> {
    const { providerState: _providerState, ...record } = await this.expiry.read(uploadId, caller, settle);
    return record;
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
    return this.ctx.telemetry.complete({ uploadId, transport: caller.transport }, async () => {
      const seen = await this.ctx.requireSession(uploadId, caller);
      if (seen.status === UploadStatus.Complete) return this.publisher.completedResult(seen);
      const lease = await this.ctx.acquire(uploadId, 'complete');
      try {
        const session = await this.ctx.requireSession(uploadId, caller);
        return await this.publisher.publishLocked(session, lease);
      } finally {
        await lease.release();
      }
    });
  }

  /** Abort an unfinished upload and free its provider-side data. The session stays as a tombstone. */
  async abort(uploadId: string, caller: CallerContext & { allowFinished?: boolean } = {}): Promise<UploadSessionView> {
    return this.ctx.telemetry.abort({ uploadId, transport: caller.transport }, () =>
      this.aborter.abort(uploadId, caller),
    );
  }

  /**
   * End-of-life steps without an ownership check, for the cleanup job and `UploadAdminService`: abort under a
   * held lease, free provider data, remove a record (provider data first), delete a finished blob. Callers hold
   * the upload's lock and read the session under it; request handlers go through `abort` instead.
   * @internal
   */
  get endings(): UploadAborter {
    return this.aborter;
  }
}

/** What `start` admitted, for `create`. */
interface AdmittedUpload {
  uploadId: string;
  path: string;
  provider: StorageProvider;
  totalSize: number | null;
  contentType: string | null;
  metadata: Record<string, string>;
  conflict: ConflictPolicy;
}

function isActive(session: UploadSession): boolean {
  return ACTIVE_STATUSES.includes(session.status);
}
