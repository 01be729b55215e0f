import { MemoryStorageProvider } from '../../src/storage/memory/memory-storage.provider';
import { runStorageProviderContract } from '../../src/testing';

runStorageProviderContract('memory', async () => ({ provider: new MemoryStorageProvider() }));
