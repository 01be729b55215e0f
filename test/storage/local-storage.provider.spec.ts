import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorageProvider } from '../../src/storage/local/local-storage.provider';
import { runStorageProviderContract } from '../../src/testing';

runStorageProviderContract('local', async () => {
  const root = await mkdtemp(join(tmpdir(), 'vb-local-contract-'));
  return { provider: new LocalStorageProvider({ root }), dispose: () => rm(root, { recursive: true, force: true }) };
});
