import { CleanupLock, CleanupLockHandle, cleanupLockHandle } from '../cleanup-lock';

/** Names held in this process; shared by every `ProcessCleanupLock` of the same name (several apps, one process). */
const held = new Set<string>();

/**
 * Process-local cleanup lock (the default). Enough for one instance, or for several Nest apps in one process
 * sharing a session store. It does NOT coordinate separate processes or hosts: use the PostgreSQL or Redis lock
 * there (a duplicate sweep is still safe — every step is idempotent — but it wastes work and double-counts).
 */
export class ProcessCleanupLock extends CleanupLock {
  constructor(private readonly name = 'valiblob:cleanup') {
    super();
  }

  async tryAcquire(): Promise<CleanupLockHandle | null> {
    if (held.has(this.name)) return null;
    held.add(this.name);
    // Nothing can take a process-local lock away: the signal never aborts.
    return cleanupLockHandle(new AbortController().signal, async () => {
      held.delete(this.name);
    });
  }
}
