import { INestApplication } from '@nestjs/common';
import { ResumableUploadService } from '../../src';
import { AzureBlobStorageProvider } from '../../src/azure';
import { AzuriteHandle, startAzurite } from '../support/azurite';
import { engineUploadWithRetries, uploadMeasured, startProviderApp } from './s3-and-azure.upload-helpers';

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

  it('a resumable upload with a dropped body, a bad checksum and stale resends is byte-exact', async () => {
    const { expected, stored } = await engineUploadWithRetries(uploads, provider, 'engine/retried.bin', 21 * MiB + 333);
    expect(stored).toEqual(expected);
  }, 120_000);

  // 128 MiB through both endpoints always; the 1 GiB through tus with VALIBLOB_BIG=1 (.ci/run sets it).
  const runs: Array<[string, number, 'rest' | 'tus']> = [['128 MiB', 128 * MiB, 'rest'], ['128 MiB', 128 * MiB, 'tus']];
  if (process.env.VALIBLOB_BIG === '1') runs.push(['1 GiB', 1024 * MiB, 'tus']);
  for (const [label, total, protocol] of runs) {
    it(`a ${label} ${protocol} upload stays under block size × concurrency + 64 MiB of RSS growth and is byte-exact`, async () => {
      const m = await uploadMeasured(protocol, base, provider, `memory/${protocol}-${total}.bin`, total, 64 * MiB);
      const growth = m.peakRss - m.baselineRss;
      // eslint-disable-next-line no-console
      console.log(
        `[Azurite ${label}] RSS growth ${(growth / MiB).toFixed(1)} MiB (bound ${RSS_BOUND / MiB} MiB), ` +
          `${m.seconds.toFixed(1)} s, ${(total / MiB / m.seconds).toFixed(1)} MiB/s`,
      );
      expect(m.bytesStored).toBe(total);
      expect(m.sha256Stored).toBe(m.sha256Sent);
      expect(growth).toBeLessThan(RSS_BOUND);
    }, 30 * 60_000);
  }
});
