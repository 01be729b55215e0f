import { Injectable } from '@nestjs/common';
import { UploadLockedError } from '../../errors/vali-blob.errors';
import { AcquireOptions, UploadLease, UploadLocker } from '../upload-locker';

interface Holder {
  fence: number;
  controller: AbortController;
  onReleaseRequested?: () => void;
  releaseRequested: boolean;
}

interface LockState {
  holder: Holder | null;
  /** FIFO of waiters; each resolves when handed the lock. */
  waiters: Array<(holder: Holder) => void>;
}

/**
 * Process-local upload lock with FIFO hand-over (no polling). A contender can ask the holder to let go, which
 * is how a retry after a half-open connection gets through quickly. Not shared between instances.
 */
@Injectable()
export class MemoryUploadLocker extends UploadLocker {
  private readonly locks = new Map<string, LockState>();
  /** Last fence handed out; time-based so fences keep growing across restarts (sessions outlive the process). */
  private lastFence = 0;

  async acquire(uploadId: string, options: AcquireOptions): Promise<UploadLease> {
    let state = this.locks.get(uploadId);
    if (!state) {
      state = { holder: null, waiters: [] };
      this.locks.set(uploadId, state);
    }
    if (state.holder === null) return this.grant(uploadId, state, this.newHolder(options));

    const current = state.holder;
    if (options.requestRelease && !current.releaseRequested) {
      current.releaseRequested = true;
      current.onReleaseRequested?.();
    }
    if (options.waitMs <= 0) throw new UploadLockedError(uploadId);
    const lockState = state;
    return new Promise<UploadLease>((resolve, reject) => {
      const waiter = (holder: Holder) => {
        clearTimeout(timer);
        resolve(this.lease(uploadId, lockState, holder));
      };
      const timer = setTimeout(() => {
        const index = lockState.waiters.indexOf(waiter);
        if (index >= 0) lockState.waiters.splice(index, 1);
        reject(new UploadLockedError(uploadId));
      }, options.waitMs);
      (waiter as { holder?: Holder }).holder = this.newHolder(options);
      lockState.waiters.push(waiter);
    });
  }

  override async close(): Promise<void> {
    for (const state of this.locks.values()) state.holder?.controller.abort();
    this.locks.clear();
  }

  private newHolder(options: AcquireOptions): Holder {
    return {
      fence: (this.lastFence = Math.max(this.lastFence + 1, Date.now() * 1000)),
      controller: new AbortController(),
      onReleaseRequested: options.onReleaseRequested,
      releaseRequested: false,
    };
  }

  private grant(uploadId: string, state: LockState, holder: Holder): UploadLease {
    state.holder = holder;
    return this.lease(uploadId, state, holder);
  }

  private lease(uploadId: string, state: LockState, holder: Holder): UploadLease {
    state.holder = holder;
    let released = false;
    return {
      fence: holder.fence,
      signal: holder.controller.signal,
      release: async () => {
        if (released || state.holder !== holder) return;
        released = true;
        const next = state.waiters.shift();
        if (next) {
          const nextHolder = (next as { holder?: Holder }).holder!;
          state.holder = nextHolder;
          next(nextHolder);
        } else {
          state.holder = null;
          if (this.locks.get(uploadId) === state) this.locks.delete(uploadId);
        }
      },
    };
  }
}
