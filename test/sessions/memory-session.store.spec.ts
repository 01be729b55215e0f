import { MemorySessionStore } from '../../src/sessions/memory/memory-session.store';
import { runSessionStoreContract } from '../../src/testing';

runSessionStoreContract('memory', async () => ({ store: new MemorySessionStore() }));
