import type { CleanupLock } from '../cleanup/cleanup-lock';
import { ProcessCleanupLock } from '../cleanup/locks/process-cleanup.lock';
import { MemoryUploadLocker } from './memory/memory-upload.locker';
import type { UploadLocker } from './upload-locker';

/**
 * The per-upload lock and the cleanup lock a session store offers (`ResumableSessionStore.createLocks()`).
 * They are what ValiBlob uses when the app names no locks, so the safe choice follows the store: a store that
 * several instances share hands out locks those instances share too.
 * @publicApi
 */
export interface StoreLocks {
  /** `shared`: every instance using the same store excludes the others; `process`: only this process. */
  scope: 'shared' | 'process';
  /** Per-upload write lock. */
  uploadLocker: UploadLocker;
  /** Lock so one instance sweeps stale uploads per run. */
  cleanupLock: CleanupLock;
  /** What the locks are, for the start-up log (no secrets), e.g. `SQL lease table + PostgreSQL advisory lock`. */
  description: string;
}

/** Process-local locks: right for the memory store, or for one instance that says so (`lock.scope: 'process'`). */
export function processLocalLocks(): StoreLocks {
  return {
    scope: 'process',
    uploadLocker: new MemoryUploadLocker(),
    cleanupLock: new ProcessCleanupLock(),
    description: 'process-local locks',
  };
}
