import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationShutdown } from '@nestjs/common';
import { createHash, Hash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  BlobExistsError,
  ChecksumMismatchError,
  InvalidRequestError,
  OffsetMismatchError,
  SizeExceededError,
  StorageUnavailableError,
  StoreUnavailableError,
  UploadCompleteError,
  UploadGoneError,
  UploadIncompleteError,
  UploadInterruptedError,
  UploadNotFoundError,
  ValiBlobError,
} from '../errors/vali-blob.errors';
import { UploadLease, UploadLocker } from '../locking/upload-locker';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { ACTIVE_STATUSES, SessionPatch, UploadSession, UploadStatus } from '../sessions/upload-session.model';
import { validateBlobPath } from '../storage/blob-path';
import { toBlobMetadata } from '../storage/storage-helpers';
import { publicMetadata } from './upload-transport';
import { BlobInfo, StorageProvider } from '../storage/storage-provider';
import { StorageRegistry } from '../storage/storage.registry';
import { VALIBLOB_OPTIONS } from '../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../vali-blob.options';
import { withTimeout } from '../common/with-timeout';
import { ChunkEndReason, ChunkMeter } from './chunk-meter';
import { validateContentType } from './content-type';
import { ShutdownInterruptedError, WriteSlot, WriteSlots } from './write-slots';
import { ChunkChecksum, createDigest, IncrementalDigest } from './upload-checksum';
import { UPLOAD_EVENTS, UploadEvents } from './upload.events';
import { toSessionView, UploadSessionView } from './upload-session.view';
import { ConflictPolicy, publishWithPolicy, resolveConflictPolicy } from './conflict-policy';
import { assertInOwnerSpace } from './owner-scope';
import { validateMetadata, validateTotalSize } from './upload-input';

/** Who is calling: `owner` undefined means a trusted in-process caller (no ownership check). */
export interface CallerContext {
  /** Owner id from the authorize hook; `null` for anonymous callers. */
  owner?: string | null;
}

/** Input of `start`. */
export interface StartUploadInput extends CallerContext {
  /** Final blob path; when omitted, `pathFor(uploadId)` or `uploads/<uploadId>`. */
  path?: string;
  /** Builds the path from the generated id (tus naming). */
  pathFor?: (uploadId: string) => string | Promise<string>;
  /** Total size in bytes, or `null` to declare it later (tus defer-length). */
  totalSize: number | null;
  contentType?: string | null;
  metadata?: Record<string, string>;
  /** Provider name (default provider when omitted). */
  provider?: string;
  /** Legacy flag: `true` = conflict `overwrite`, `false` = `fail`. */
  overwrite?: boolean;
  /** What complete does when the path holds a blob (default `fail`: 409, checked atomically at complete). */
  conflict?: ConflictPolicy;
  /** tus concatenation role. */
  concat?: string | null;
  /** Complete at once when `totalSize` is 0 (tus semantics). */
  autoComplete?: boolean;
}

/** Input of `uploadChunk`. */
export interface UploadChunkInput extends CallerContext {
  uploadId: string;
  /** Offset the client claims the chunk starts at. */
  offset: number;
  /** The chunk body; consumed as a stream. */
  body: Readable;
  /** Declared body length (Content-Length) when known; checked against the limits before reading. */
  contentLength?: number | null;
  /** Checksum of this chunk, or a function read after the body ended (tus checksum trailer). */
  checksum?: ChunkChecksum | (() => ChunkChecksum | undefined);
  /** Declare the total size of a deferred-length upload (tus `Upload-Length` on PATCH). */
  declareTotalSize?: number;
  /** Complete the upload when this chunk brings it to its total size (tus). */
  autoComplete?: boolean;
}

/** Result of `uploadChunk`. */
export interface ChunkResult {
  session: UploadSessionView;
  /** Bytes of this request that were stored. */
  bytesWritten: number;
  /** How the body ended (`eof`, or why it stopped early; bytes that arrived are kept). */
  endReason: ChunkEndReason;
}

/** Result of `complete`. */
export interface CompleteResult {
  session: UploadSessionView;
  /** The stored blob (null only if it was deleted after completion). */
  blob: BlobInfo | null;
}

/** Most sessions whose incremental whole-file hash is kept in memory between chunks. */
const HASH_CACHE_LIMIT = 10_000;

/**
 * The resumable upload engine shared by the tus and REST controllers and usable directly.
 *
 * Invariants: a chunk is accepted only at the session's current offset; bytes are made durable by the
 * provider before the offset advances through the store's atomic `advance`; a rejected chunk (checksum,
 * size) leaves nothing behind; every transition fires its event exactly once (only the caller whose
 * compare-and-set won emits).
 */
@Injectable()
export class ResumableUploadService implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('ValiBlob');
  /** uploadId → sha256 of bytes [0, offset), so complete rarely has to read the blob back. */
  private readonly hashes = new Map<string, { offset: number; hash: Hash }>();
  /** Chunk bodies being read right now; interrupted on shutdown so each persists what it has. */
  private readonly activeMeters = new Set<ChunkMeter>();
  /** In-flight write cap (`maxConcurrentWrites`) and the shutdown flag. */
  private readonly writeSlots: WriteSlots;

  constructor(
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
    private readonly store: ResumableSessionStore,
    private readonly registry: StorageRegistry,
    private readonly locker: UploadLocker,
    private readonly events: UploadEvents,
  ) {
    this.writeSlots = new WriteSlots(options.maxConcurrentWrites);
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
    await this.providerCall(() => provider.assertCreatable(path));
    const metadata = validateMetadata(input.metadata);
    const contentType = validateContentType(input.contentType);
    const conflict = resolveConflictPolicy(input.conflict, input.overwrite);
    assertInOwnerSpace(this.options, input.owner, path);
    // An early answer only: the rule holds at complete, where the provider publishes atomically.
    if (conflict === 'fail' && (await this.providerCall(() => provider.exists(path)))) throw new BlobExistsError(path);

    const providerState = await this.providerCall(() =>
      provider.beginUpload({ uploadId, path, totalSize, contentType, metadata: toBlobMetadata(publicMetadata(metadata)) }),
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
      concat: input.concat ?? null,
      fence: 0,
      conflict,
    };
    try {
      await this.storeCall(() => this.store.save(session));
    } catch (error) {
      await provider.abortUpload(providerState).catch(() => undefined);
      throw error;
    }
    if (this.recordsChecksum(session)) this.rememberHash(uploadId, 0, createHash('sha256'));
    this.events.emit(UPLOAD_EVENTS.started, { session: toSessionView(session) });
    if (totalSize === 0 && input.autoComplete) return (await this.complete(uploadId)).session;
    return toSessionView(session);
  }

  /** Store one chunk at `offset`. See the class comment for the guarantees. */
  async uploadChunk(input: UploadChunkInput): Promise<ChunkResult> {
    const { uploadId, body } = input;
    let slot: WriteSlot | undefined;
    try {
      if (!Number.isSafeInteger(input.offset) || input.offset < 0) {
        throw new InvalidRequestError('Offset must be a non-negative integer', 'INVALID_OFFSET');
      }
      if (input.contentLength != null && (!Number.isSafeInteger(input.contentLength) || input.contentLength < 0)) {
        throw new InvalidRequestError('Content-Length must be a non-negative integer', 'INVALID_LENGTH');
      }
      // Cheap checks before waiting for the lock: a stale retry gets its 409 at once.
      const seen = await this.requireSession(uploadId, input);
      const shortcut = this.checkWritable(seen, input);
      if (shortcut) {
        body.resume();
        return shortcut;
      }
      this.checkSize(seen, input);
      // Counted from here to the end of the write: the lock wait and the body read are what a slow client holds.
      slot = this.writeSlots.take(seen.uploadedBytes);
    } catch (error) {
      body.resume();
      throw error;
    }

    let meter: ChunkMeter | undefined;
    let onLeaseLost: (() => void) | undefined;
    let releaseRequested = false;
    const lease = await this.acquire(uploadId, () => {
      releaseRequested = true;
      meter?.interrupt();
    }).catch((error) => {
      slot?.release();
      body.resume();
      throw error;
    });
    try {
      // Re-read under the lock: the committed state is what counts.
      const session = await this.requireSession(uploadId, input);
      const shortcut = this.checkWritable(session, input);
      if (shortcut) {
        body.resume();
        return shortcut;
      }
      const totalSize = this.checkSize(session, input);
      const provider = this.registry.get(session.provider);
      const limit = (totalSize ?? this.options.maxUploadSize) - session.uploadedBytes;

      const declared = typeof input.checksum === 'function' ? undefined : input.checksum;
      const deferredChecksum = typeof input.checksum === 'function' ? input.checksum : undefined;
      // A trailer checksum names its algorithm only after the body: hash with every enabled one meanwhile.
      const chunkDigests = new Map<string, IncrementalDigest>();
      if (declared) chunkDigests.set(declared.algorithm, createDigest(declared.algorithm));
      if (deferredChecksum) for (const a of this.options.checksumAlgorithms) chunkDigests.set(a, createDigest(a));
      const cached = this.hashes.get(uploadId);
      const fileHash = cached && cached.offset === session.uploadedBytes ? cached.hash.copy() : undefined;
      const digests: IncrementalDigest[] = [...chunkDigests.values()];
      if (fileHash) digests.push({ update: (d) => void fileHash.update(d), digest: () => Buffer.alloc(0) });

      meter = new ChunkMeter(body, {
        maxBytes: limit,
        digests,
        idleTimeoutMs: this.options.idleTimeoutMs,
        onExceeded: () =>
          new SizeExceededError(
            totalSize === null
              ? `Upload would exceed the maximum of ${this.options.maxUploadSize} bytes`
              : `Chunk goes past the upload's total size of ${totalSize} bytes`,
            totalSize ?? this.options.maxUploadSize,
          ),
      });
      if (releaseRequested) meter.interrupt();
      this.activeMeters.add(meter);
      if (this.writeSlots.shuttingDown) meter.interrupt();
      const activeMeter = meter;
      // A lease lost mid-body (heartbeat failed, expired during a pause) means another writer may own the
      // upload now: stop writing at once; the fenced advance then refuses whatever this request stored.
      onLeaseLost = () => activeMeter.interrupt();
      lease.signal.addEventListener('abort', onLeaseLost, { once: true });
      if (lease.signal.aborted) activeMeter.interrupt();

      const written = await this.providerCall(() =>
        provider.writeChunk(session.providerState ?? {}, session.uploadedBytes, activeMeter, {
          expectedLength: input.contentLength ?? null,
          isFinal: totalSize !== null && session.uploadedBytes + (input.contentLength ?? -1) === totalSize,
          beforeCommit: () => {
            const reason = activeMeter.endReason;
            const expected = declared ?? deferredChecksum?.();
            if (expected) {
              // A body cut short can never match its checksum: discard it.
              if (reason === 'interrupted') throw this.interruption(session.uploadedBytes);
              const digest = chunkDigests.get(expected.algorithm) ?? null;
              if (!digest && deferredChecksum) {
                throw new InvalidRequestError(`Checksum algorithm ${expected.algorithm} was not computed`);
              }
              if (reason !== 'eof' || !digest || !digest.digest().equals(expected.digest)) {
                throw new ChecksumMismatchError(expected.algorithm);
              }
            }
          },
        }),
      );

      const newOffset = session.uploadedBytes + written.bytesWritten;
      const now = Date.now();
      const patch: SessionPatch = {
        uploadedBytes: newOffset,
        providerState: written.state,
        status: UploadStatus.InProgress,
        updatedAt: now,
        expiresAt: now + this.options.sessionExpiration,
        fence: lease.fence,
      };
      if (totalSize !== session.totalSize) patch.totalSize = totalSize;
      const updated = await this.storeCall(() => this.store.advance(uploadId, session.uploadedBytes, patch));
      if (!updated) {
        this.hashes.delete(uploadId);
        const current = await this.requireSession(uploadId, input);
        throw new OffsetMismatchError(current.uploadedBytes, input.offset);
      }
      if (fileHash && written.bytesWritten === activeMeter.bytes) this.rememberHash(uploadId, newOffset, fileHash);
      else if (written.bytesWritten > 0) this.hashes.delete(uploadId);
      this.events.emit(UPLOAD_EVENTS.chunk, {
        session: toSessionView(updated),
        offset: session.uploadedBytes,
        bytes: written.bytesWritten,
      });

      const endReason = activeMeter.endReason ?? 'eof';
      if (endReason === 'interrupted') throw this.interruption(newOffset);
      if (input.autoComplete && updated.totalSize !== null && newOffset === updated.totalSize) {
        const completed = await this.completeLocked(updated, lease);
        return { session: completed.session, bytesWritten: written.bytesWritten, endReason };
      }
      return { session: toSessionView(updated), bytesWritten: written.bytesWritten, endReason };
    } catch (error) {
      if (meter && !meter.destroyed) meter.destroy();
      body.resume();
      throw error;
    } finally {
      if (meter) this.activeMeters.delete(meter);
      if (onLeaseLost) lease.signal.removeEventListener('abort', onLeaseLost);
      slot?.release();
      await lease.release();
    }
  }

  /**
   * The error for a body this engine stopped reading: during shutdown a retryable 503 (the client resumes at
   * `offset`, here after a restart or on another instance); otherwise a newer request for the upload took over.
   */
  private interruption(offset: number): ValiBlobError {
    return this.writeSlots.shuttingDown ? new ShutdownInterruptedError(offset) : new UploadInterruptedError(offset);
  }

  /**
   * Shutdown, step 1 (`app.close()`): in-flight chunks stop reading as if their body ended, store what arrived
   * and advance their offset; the client gets 503 UPLOAD_INTERRUPTED with `Retry-After` and the offset (a status
   * tus clients retry) and resumes after the restart or elsewhere. Writes that arrive from now on get the same
   * 503 before reading anything. Waits for running ones up to a bound so the store is still open while they persist.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.writeSlots.close();
    for (const meter of this.activeMeters) meter.interrupt();
    const deadline = Date.now() + SHUTDOWN_DRAIN_MS;
    while (this.activeMeters.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.activeMeters.size > 0) this.logger.warn(`${this.activeMeters.size} chunk writes still running at shutdown`);
  }

  /** Shutdown, step 2: release locks, closing the locker only when the library created it (no `lock.locker`). */
  async onApplicationShutdown(): Promise<void> {
    if (!this.options.lock.locker) await this.locker.close();
  }

  /** Current state of an upload. Completed and aborted uploads stay readable until retention ends. */
  async getStatus(uploadId: string, caller: CallerContext = {}): Promise<UploadSessionView> {
    const session = await this.requireSession(uploadId, caller);
    if (isActive(session) && session.expiresAt <= Date.now()) throw new UploadGoneError(uploadId, 'expired');
    return toSessionView(session);
  }

  /** The raw session (provider state included) for in-process callers such as cleanup and tus concatenation. */
  async getSession(uploadId: string, caller: CallerContext = {}): Promise<UploadSession> {
    return this.requireSession(uploadId, caller);
  }

  /**
   * Publish the upload at its path once every byte is stored, recording the whole-file sha256. Calling it
   * again returns the same result.
   */
  async complete(uploadId: string, caller: CallerContext = {}): Promise<CompleteResult> {
    const seen = await this.requireSession(uploadId, caller);
    if (seen.status === UploadStatus.Complete) return this.completedResult(seen);
    const lease = await this.acquire(uploadId);
    try {
      const session = await this.requireSession(uploadId, caller);
      return await this.completeLocked(session, lease);
    } finally {
      await lease.release();
    }
  }

  /** Abort an unfinished upload and free its provider-side data. The session stays as a tombstone. */
  async abort(uploadId: string, caller: CallerContext & { allowFinished?: boolean } = {}): Promise<UploadSessionView> {
    await this.requireSession(uploadId, caller);
    const lease = await this.acquire(uploadId);
    try {
      for (let attempt = 0; ; attempt++) {
        const session = await this.requireSession(uploadId, caller);
        if (session.status === UploadStatus.Aborted) throw new UploadGoneError(uploadId, 'aborted');
        if (session.status === UploadStatus.Complete) {
          if (!caller.allowFinished) throw new UploadCompleteError(uploadId);
          return await this.deleteFinished(session);
        }
        const now = Date.now();
        // Mark aborted first, keeping providerState, so a failure to free the data leaves a tombstone that
        // cleanup can still free; then free it and clear the state.
        const aborted = await this.storeCall(() =>
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
        this.hashes.delete(uploadId);
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
    await this.providerCall(() => provider.abortUpload(session.providerState!));
    const cleared = { ...session, providerState: null, updatedAt: Date.now() };
    await this.storeCall(() => this.store.update(cleared));
  }

  private async completeLocked(session: UploadSession, lease: UploadLease): Promise<CompleteResult> {
    if (session.status === UploadStatus.Complete) return this.completedResult(session);
    if (session.status === UploadStatus.Aborted) throw new UploadGoneError(session.uploadId, 'aborted');
    if (session.expiresAt <= Date.now()) throw new UploadGoneError(session.uploadId, 'expired');
    if (session.totalSize === null || session.uploadedBytes !== session.totalSize) {
      throw new UploadIncompleteError(session.uploadedBytes, session.totalSize);
    }
    const provider = this.registry.get(session.provider);
    // BlobExistsError (policy fail, or rename out of names) leaves the session and staged data as they were.
    const { blob, path } = await this.providerCall(() =>
      publishWithPolicy(
        provider,
        session.providerState ?? {},
        {
          uploadId: session.uploadId,
          path: session.path,
          totalSize: session.totalSize!,
          contentType: session.contentType,
          // The library's own keys (e.g. the tus marker) stay in the session, never in the blob.
          metadata: toBlobMetadata(publicMetadata(session.metadata)),
        },
        // A store that drops the field must not turn the upload into a silent replace.
        session.conflict ?? 'fail',
      ),
    );
    const checksum = this.recordsChecksum(session) ? await this.wholeFileSha256(session, provider, path) : null;
    const now = Date.now();
    const completed = await this.storeCall(() =>
      this.store.advance(session.uploadId, session.uploadedBytes, {
        path,
        status: UploadStatus.Complete,
        checksum,
        providerState: null,
        updatedAt: now,
        expiresAt: now + this.options.completedRetention,
        fence: lease.fence,
      }),
    );
    this.hashes.delete(session.uploadId);
    if (!completed) {
      // Someone else finished it between our read and our write: answer with their result.
      const current = await this.requireSession(session.uploadId, {});
      if (current.status === UploadStatus.Complete) return this.completedResult(current);
      throw new OffsetMismatchError(current.uploadedBytes, session.uploadedBytes);
    }
    this.events.emit(UPLOAD_EVENTS.completed, { session: toSessionView(completed) });
    return { session: toSessionView(completed), blob };
  }

  private async completedResult(session: UploadSession): Promise<CompleteResult> {
    const provider = this.registry.get(session.provider);
    const blob = await this.providerCall(() => provider.stat(session.path));
    return { session: toSessionView(session), blob };
  }

  private async deleteFinished(session: UploadSession): Promise<UploadSessionView> {
    const provider = this.registry.get(session.provider);
    await this.providerCall(() => provider.delete(session.path));
    const now = Date.now();
    const updated = await this.storeCall(() =>
      this.store.update({ ...session, status: UploadStatus.Aborted, updatedAt: now, expiresAt: now + this.options.completedRetention }),
    );
    const view = toSessionView(updated ?? session);
    this.events.emit(UPLOAD_EVENTS.aborted, { session: view });
    return view;
  }

  /** Partials always record theirs: tus concatenation uses it to prove a partial's blob is unchanged. */
  private recordsChecksum(session: Pick<UploadSession, 'concat'>): boolean {
    return this.options.wholeFileChecksum || session.concat === 'partial';
  }

  private async wholeFileSha256(session: UploadSession, provider: StorageProvider, path: string): Promise<string> {
    const cached = this.hashes.get(session.uploadId);
    if (cached && cached.offset === session.totalSize) return cached.hash.digest('hex');
    // Fallback after a restart or when chunks went to another instance: read the blob back once.
    const hash = createHash('sha256');
    const { stream } = await this.providerCall(() => provider.get(path));
    for await (const chunk of stream) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  /** Returns a result for requests that need no write, throws for invalid states, `null` to proceed. */
  private checkWritable(session: UploadSession, input: UploadChunkInput): ChunkResult | null {
    if (session.status === UploadStatus.Aborted) throw new UploadGoneError(session.uploadId, 'aborted');
    if (session.status === UploadStatus.Complete) {
      // An empty chunk at the end of a finished upload is a harmless retry: answer without a new event.
      if (input.offset === session.totalSize && input.contentLength === 0) {
        return { session: toSessionView(session), bytesWritten: 0, endReason: 'eof' };
      }
      throw new OffsetMismatchError(session.uploadedBytes, input.offset);
    }
    if (session.expiresAt <= Date.now()) throw new UploadGoneError(session.uploadId, 'expired');
    if (input.offset !== session.uploadedBytes) throw new OffsetMismatchError(session.uploadedBytes, input.offset);
    return null;
  }

  /** Validate declared sizes against the upload and the limits; returns the (possibly just declared) total. */
  private checkSize(session: UploadSession, input: UploadChunkInput): number | null {
    let totalSize = session.totalSize;
    if (input.declareTotalSize !== undefined) {
      const declared = input.declareTotalSize;
      if (!Number.isSafeInteger(declared) || declared < 0) {
        throw new InvalidRequestError('Upload length must be a non-negative integer', 'INVALID_LENGTH');
      }
      if (totalSize !== null && declared !== totalSize) {
        throw new InvalidRequestError('Upload length is already set and cannot change', 'INVALID_LENGTH');
      }
      if (declared < session.uploadedBytes) {
        throw new InvalidRequestError('Upload length is smaller than the bytes already stored', 'INVALID_LENGTH');
      }
      if (declared > this.options.maxUploadSize) {
        throw new SizeExceededError(`Upload length exceeds the maximum of ${this.options.maxUploadSize}`, this.options.maxUploadSize);
      }
      totalSize = declared;
    }
    const limit = totalSize ?? this.options.maxUploadSize;
    if (input.contentLength != null && input.offset + input.contentLength > limit) {
      throw new SizeExceededError(
        totalSize === null
          ? `Upload would exceed the maximum of ${this.options.maxUploadSize} bytes`
          : `Chunk goes past the upload's total size of ${totalSize} bytes`,
        limit,
      );
    }
    return totalSize;
  }

  private async requireSession(uploadId: string, caller: CallerContext): Promise<UploadSession> {
    if (typeof uploadId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(uploadId)) throw new UploadNotFoundError(String(uploadId));
    const session = await this.storeCall(() => this.store.get(uploadId));
    // Another owner's upload must be indistinguishable from a missing one. Exact match: an ownerless session is
    // not an authenticated owner's, and an anonymous caller (owner null) never sees an owned one.
    if (!session || (caller.owner !== undefined && session.ownerId !== caller.owner)) {
      throw new UploadNotFoundError(uploadId);
    }
    return session;
  }

  private acquire(uploadId: string, onReleaseRequested?: () => void): Promise<UploadLease> {
    return this.locker.acquire(uploadId, {
      waitMs: this.options.lock.waitMs,
      requestRelease: this.options.lock.requestRelease,
      onReleaseRequested,
    });
  }

  private rememberHash(uploadId: string, offset: number, hash: Hash): void {
    this.hashes.delete(uploadId);
    if (this.hashes.size >= HASH_CACHE_LIMIT) this.hashes.delete(this.hashes.keys().next().value!);
    this.hashes.set(uploadId, { offset, hash });
  }

  /** Run a store call with the configured timeout; anything unexpected becomes 503, never "not found". */
  private async storeCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(call(), this.options.storeTimeoutMs, () => new StoreUnavailableError('Session store timed out'));
    } catch (error) {
      if (error instanceof ValiBlobError) throw error;
      this.logger.error(`Session store call failed: ${(error as Error)?.stack ?? error}`);
      throw new StoreUnavailableError('Session store unavailable', { cause: error });
    }
  }

  /** Run a provider call; unexpected failures (I/O, network) become 503 and are logged. */
  private async providerCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ValiBlobError) throw error;
      this.logger.error(`Storage provider call failed: ${(error as Error)?.stack ?? error}`);
      throw new StorageUnavailableError('Storage unavailable', { cause: error });
    }
  }
}

function isActive(session: UploadSession): boolean {
  return ACTIVE_STATUSES.includes(session.status);
}

/** Longest wait for in-flight chunks to persist during shutdown. */
const SHUTDOWN_DRAIN_MS = 10_000;
