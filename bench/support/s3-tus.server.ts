/**
 * The S3 peer of the cloud benchmark: `@tus/server` 2 with `@tus/s3-store` (client settings from `s3BenchConfig()`,
 * bucket `S3_BUCKET`, `partSize` = `S3_PART_SIZE`, its default in-memory metadata cache), mounted at `/files` on a
 * plain Node http server. Its part files go to `os.tmpdir()`, so the benchmark sets `TMPDIR`. Counts its S3
 * requests by kind and tells them over IPC (`counts`, `reset`). Prints `listening on http://127.0.0.1:<port>`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createServer } from 'node:http';
import { answerQuestions } from './cloud-process';
import { s3BenchConfig } from './s3-bench.config';
import { countS3Requests } from './s3-request-counter';

// Both packages are ESM; Node >= 20.19 loads them through require(esm).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- ESM-only package, loaded with require(esm)
const { Server } = require('@tus/server') as typeof import('@tus/server');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- ESM-only package, loaded with require(esm)
const { S3Store } = require('@tus/s3-store') as typeof import('@tus/s3-store');

const store = new S3Store({
  partSize: Number(process.env.S3_PART_SIZE),
  s3ClientConfig: { ...s3BenchConfig(), bucket: process.env.S3_BUCKET! },
});
// The store's client is protected; the counter needs its middleware stack.
const counts = countS3Requests((store as unknown as { client: S3Client }).client);
answerQuestions({ counts: () => Object.fromEntries(counts), reset: () => counts.clear() });

const tus = new Server({ path: '/files', datastore: store });
const server = createServer((req, res) => void tus.handle(req, res));
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`@tus/server + @tus/s3-store listening on http://127.0.0.1:${port}`);
});
