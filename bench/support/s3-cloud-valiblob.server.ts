/**
 * ValiBlob with its S3 provider for the cloud benchmark: client settings from `s3BenchConfig()` (env), bucket
 * `S3_BUCKET`, part size `S3_PART_SIZE`, part files under `S3_TEMP_DIR`, memory sessions. Counts its S3 requests by
 * kind and tells them over IPC (`counts`, `reset`). Prints `listening on http://127.0.0.1:<port>`.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3StorageProvider } from '../../src/s3';
import { answerQuestions } from './cloud-process';
import { startCloudValiBlob } from './cloud-valiblob.app';
import { s3BenchConfig } from './s3-bench.config';
import { countS3Requests } from './s3-request-counter';

const client = new S3Client(s3BenchConfig());
const counts = countS3Requests(client);
answerQuestions({ counts: () => Object.fromEntries(counts), reset: () => counts.clear() });

const s3 = new S3StorageProvider({
  bucket: process.env.S3_BUCKET!,
  client,
  partSize: Number(process.env.S3_PART_SIZE),
  tempDirectory: process.env.S3_TEMP_DIR,
});

startCloudValiBlob('s3', s3).catch((error) => {
  console.error(error);
  process.exit(1);
});
