import { Logger } from '@nestjs/common';
import { guardedCall } from '../common/guarded-call';
import type { UploadLogSubject } from '../common/upload-log';
import {
  StorageUnavailableError,
  StoreUnavailableError,
  UploadLockedError,
  UploadNotFoundError,
} from '../errors/vali-blob.errors';
import type { UploadLease, UploadLocker } from '../locking/upload-locker';
import type { UploadPolicy } from '../policy/upload-policy';
import type { ResumableSessionStore } from '../sessions/resumable-session-store';
import type { UploadSession } from '../sessions/upload-session.model';
import type { StorageRegistry } from '../storage/storage.registry';
import { EngineTelemetry, LockingOperation } from '../telemetry/engine.telemetry';
import type { ResolvedValiBlobOptions } from '../vali-blob.options';
import type { CallerContext } from './resumable-upload.types';
import type { UploadEvents } from './upload.events';

/**
 * What every part of the engine shares: the options, the backends behind a guarded call each, session lookup
 * with the ownership rule, and the per-upload lock. Built once by `ResumableUploadService`.
 */
export class UploadEngineContext {
  /** Unexpected backend failures (with their stack) and shutdown warnings go here. */
  readonly logger = new Logger('ValiBlob');
  /** Metrics and spans of the engine (no-ops unless the app installs an OpenTelemetry SDK). */
  readonly telemetry: EngineTelemetry;

  constructor(
    readonly options: ResolvedValiBlobOptions,
    readonly store: ResumableSessionStore,
    readonly registry: StorageRegistry,
    readonly locker: UploadLocker,
    readonly events: UploadEvents,
    readonly policy: UploadPolicy,
  ) {
    this.telemetry = new EngineTelemetry(store);
  }

  /**
   * Run a store call with the configured timeout; anything unexpected becomes 503, never "not found". `upload`
   * (the session, or its id and owner) is named in the log line of a failure; `operation` (`get`, `advance`, …)
   * names its span and metric attribute.
   */
  storeCall<T>(upload: UploadLogSubject, operation: string, call: () => Promise<T>): Promise<T> {
    return this.telemetry.storeCall(operation, () => this.guardedStoreCall(upload, call));
  }

  /**
   * Run a provider call; unexpected failures (I/O, network) become 503 and are logged (naming `upload`).
   * `operation` names its span.
   */
  providerCall<T>(upload: UploadLogSubject, operation: string, call: () => Promise<T>): Promise<T> {
    return this.telemetry.providerCall(operation, () =>
      guardedCall(call, {
        what: 'Storage provider call',
        unavailable: ({ cause }) => new StorageUnavailableError('Storage unavailable', { cause }),
        logger: this.logger,
        upload,
      }),
    );
  }

  private guardedStoreCall<T>(upload: UploadLogSubject, call: () => Promise<T>): Promise<T> {
    return guardedCall(call, {
      what: 'Session store call',
      timeoutMs: this.options.storeTimeoutMs,
      // The 503 body reaches clients: the backend's own message (hosts, ports) stays in the log.
      unavailable: ({ timedOut, cause }) =>
        timedOut
          ? new StoreUnavailableError('Session store timed out')
          : new StoreUnavailableError('Session store unavailable', { cause }),
      logger: this.logger,
      upload,
    });
  }

  /** The session, or `UploadNotFoundError` when it does not exist or belongs to another owner. */
  async requireSession(uploadId: string, caller: CallerContext): Promise<UploadSession> {
    if (!isUploadId(uploadId)) {
      throw new UploadNotFoundError(String(uploadId));
    }
    const session = await this.storeCall({ uploadId, ownerId: caller.owner }, 'get', () => this.store.get(uploadId));
    // Another owner's upload must be indistinguishable from a missing one. Exact match: an ownerless session is
    // not an authenticated owner's, and an anonymous caller (owner null) never sees an owned one.
    if (!session || (caller.owner !== undefined && session.ownerId !== caller.owner)) {
      throw new UploadNotFoundError(uploadId);
    }
    return session;
  }

  /**
   * Take the per-upload lock for `operation` with the configured wait (timed, 423s counted); `onReleaseRequested`
   * fires when a newer writer asks.
   */
  acquire(uploadId: string, operation: LockingOperation, onReleaseRequested?: () => void): Promise<UploadLease> {
    return this.telemetry.lockWait(operation, () =>
      this.locker.acquire(uploadId, {
        waitMs: this.options.lock.waitMs,
        requestRelease: this.options.lock.requestRelease,
        onReleaseRequested,
      }),
    );
  }

  /**
   * One attempt at the per-upload lock, without waiting and without asking a holder to let go: the lease when the
   * lock was free, `null` when someone holds it (neither timed nor counted as a 423: the caller then takes the
   * waiting path, which is).
   */
  tryAcquire(
    uploadId: string,
    operation: LockingOperation,
    onReleaseRequested?: () => void,
  ): Promise<UploadLease | null> {
    return this.telemetry.lockWait(
      operation,
      () =>
        this.locker
          .acquire(uploadId, { waitMs: 0, requestRelease: false, onReleaseRequested })
          .catch((error: unknown) => {
            if (error instanceof UploadLockedError) return null;
            throw error;
          }),
      true,
    );
  }
}

/** Whether `uploadId` has the shape of an upload id (anything else is "not found" without a store call). */
export function isUploadId(uploadId: unknown): uploadId is string {
  return typeof uploadId === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(uploadId);
}
