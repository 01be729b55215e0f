import { INestApplication } from '@nestjs/common';
import { ResumableUploadService } from '../../src';
import { AzureBlobStorageProvider } from '../../src/azure';
import { AzuriteHandle, startAzurite } from '../support/azurite';
import { resumableUploadTests, startProviderApp } from './s3-and-azure.upload-helpers';

const MiB = 1024 * 1024;
const BLOCK_SIZE = 8 * MiB;
const CONCURRENCY = 4;
/** The bound: part (block) size × concurrency + 64 MiB. */
const RSS_BOUND = BLOCK_SIZE * CONCURRENCY + 64 * MiB;

/**
 * The Azure provider under the real engine and REST API (app.listen(0)) against Azurite (child process, so
 * its in-memory blobs do not count in this process's RSS). VALIBLOB_BIG=1 adds the 1 GiB run.
 */
describe('Azure provider through the engine and REST (Azurite)', () => {
  let azurite: AzuriteHandle;
  let provider: AzureBlobStorageProvider;
  let app: INestApplication;
  let base: string;
  let uploads: ResumableUploadService;

  beforeAll(async () => {
    azurite = await startAzurite();
    provider = new AzureBlobStorageProvider({
      connectionString: azurite.connectionString,
      containerName: 'e2e',
      blockSize: BLOCK_SIZE,
      maxConcurrentBlocks: CONCURRENCY,
    });
    await provider.container.createIfNotExists();
    ({ app, base, uploads } = await startProviderApp('azure', provider));
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await azurite?.stop();
  });

  resumableUploadTests('Azurite', 'block', RSS_BOUND, () => ({ provider, base, uploads }));
});
