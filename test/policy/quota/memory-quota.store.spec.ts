import { MemoryQuotaStore } from '../../../src/policy/quota/memory-quota.store';
import { MemorySessionStore } from '../../../src/sessions/memory/memory-session.store';
import { ResumableSessionStore } from '../../../src/sessions/resumable-session-store';
import { runQuotaStoreContract } from '../../../src/testing';

runQuotaStoreContract('memory', async () => ({ store: new MemoryQuotaStore() }));

describe('createQuotaStore()', () => {
  it('MemorySessionStore offers an in-process MemoryQuotaStore', () => {
    expect(new MemorySessionStore().createQuotaStore()).toBeInstanceOf(MemoryQuotaStore);
  });

  it('a custom store offers none by default', () => {
    // The base implementation, as a custom store that does not override it inherits it.
    expect(ResumableSessionStore.prototype.createQuotaStore.call(new MemorySessionStore())).toBeNull();
  });
});
