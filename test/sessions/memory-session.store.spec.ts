import { ResumableSessionStore } from '../../src/sessions/resumable-session-store';
import { MemorySessionStore } from '../../src/sessions/memory/memory-session.store';
import { runSessionStoreContract } from '../../src/testing';

runSessionStoreContract('memory', async () => ({ store: new MemorySessionStore() }));

/** A custom store that keeps the base class's `deleteExpired` (paging with `find`), as an app's own store would. */
class CustomStoreWithDefaultDeleteExpired extends MemorySessionStore {
  override deleteExpired(now: number): Promise<number> {
    return ResumableSessionStore.prototype.deleteExpired.call(this, now);
  }
}

runSessionStoreContract('custom store (default deleteExpired)', async () => ({
  store: new CustomStoreWithDefaultDeleteExpired(),
}));
