import { INestApplication } from '@nestjs/common';
import { ResumableUploadService } from '../../src';
import { S3StorageProvider } from '../../src/s3';
import { startS3rver, S3rverHandle } from '../support/s3rver';
import { engineUploadWithRetries, uploadMeasured, startProviderApp } from './s3-and-azure.upload-helpers';

const MiB = 1024 * 1024;
const PART_SIZE = 8 * MiB;
const CONCURRENCY = 4;
/** The bound: part size × concurrency + 64 MiB. */
const RSS_BOUND = PART_SIZE * CONCURRENCY + 64 * MiB;

/**
 * The S3 provider under the real engine and REST API (app.listen(0)) against s3rver in this process.
 * VALIBLOB_BIG=1 adds the 1 GiB run (slow on small machines); the 128 MiB run always happens.
 */
describe('S3 provider through the engine and REST (s3rver)', () => {
  let s3: S3rverHandle;
  let provider: S3StorageProvider;
  let app: INestApplication;
  let base: string;
  let uploads: ResumableUploadService;

  beforeAll(async () => {
    s3 = await startS3rver();
    provider = new S3StorageProvider({ bucket: s3.bucket, client: s3.client, partSize: PART_SIZE, maxConcurrentParts: CONCURRENCY });
    ({ app, base, uploads } = await startProviderApp('s3', provider));
  });
  afterAll(async () => {
    await app?.close();
    await s3?.stop();
  });

  it('a resumable upload with a dropped body, a bad checksum and stale resends is byte-exact', async () => {
    const { expected, stored } = await engineUploadWithRetries(uploads, provider, 'engine/retried.bin', 21 * MiB + 333);
    expect(stored).toEqual(expected);
  }, 120_000);

  // 128 MiB through both endpoints always; the 1 GiB through tus with VALIBLOB_BIG=1 (.ci/run sets it).
  const runs: Array<[string, number, 'rest' | 'tus']> = [['128 MiB', 128 * MiB, 'rest'], ['128 MiB', 128 * MiB, 'tus']];
  if (process.env.VALIBLOB_BIG === '1') runs.push(['1 GiB', 1024 * MiB, 'tus']);
  for (const [label, total, protocol] of runs) {
    it(`a ${label} ${protocol} upload stays under part size × concurrency + 64 MiB of RSS growth and is byte-exact`, async () => {
      const m = await uploadMeasured(protocol, base, provider, `memory/${protocol}-${total}.bin`, total, 64 * MiB);
      const growth = m.peakRss - m.baselineRss;
      // eslint-disable-next-line no-console
      console.log(
        `[s3rver ${label}] RSS growth ${(growth / MiB).toFixed(1)} MiB (bound ${RSS_BOUND / MiB} MiB), ` +
          `${m.seconds.toFixed(1)} s, ${(total / MiB / m.seconds).toFixed(1)} MiB/s`,
      );
      expect(m.bytesStored).toBe(total);
      expect(m.sha256Stored).toBe(m.sha256Sent);
      expect(growth).toBeLessThan(RSS_BOUND);
    }, 30 * 60_000);
  }
});
