import { INestApplication } from '@nestjs/common';
import { ResumableUploadService } from '../../src';
import { S3StorageProvider } from '../../src/s3';
import { startS3rver, S3rverHandle } from '../support/s3rver';
import { resumableUploadTests, startProviderApp } from './s3-and-azure.upload-helpers';

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
    provider = new S3StorageProvider({
      bucket: s3.bucket,
      client: s3.client,
      partSize: PART_SIZE,
      maxConcurrentParts: CONCURRENCY,
    });
    ({ app, base, uploads } = await startProviderApp('s3', provider));
  });
  afterAll(async () => {
    await app?.close();
    await s3?.stop();
  });

  resumableUploadTests('s3rver', 'part', RSS_BOUND, () => ({ provider, base, uploads }));
});
