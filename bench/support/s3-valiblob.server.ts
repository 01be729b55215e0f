/**
 * ValiBlob on S3 for the memory benchmark: the library module with the S3 provider (pointed at the s3rver the
 * benchmark runs, `S3_ENDPOINT` / `S3_BUCKET`) and memory sessions, tus at `/files` and REST at `/uploads`.
 * The runnable server only knows local disk, hence this small app. Prints `listening on http://127.0.0.1:<port>`.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { ValiBlobModule } from '../../src';
import { S3StorageProvider } from '../../src/s3';

async function main(): Promise<void> {
  const s3 = new S3StorageProvider({
    bucket: process.env.S3_BUCKET ?? 'valiblob-bench',
    clientConfig: {
      endpoint: process.env.S3_ENDPOINT,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
    tempDirectory: process.env.S3_TEMP_DIR,
  });

  @Module({
    imports: [
      ValiBlobModule.forRoot({
        defaultProvider: 's3',
        providers: { s3 },
        sessionStore: 'memory',
        cleanup: { enabled: false },
        http: { tus: { path: 'files' }, rest: { path: 'uploads' } },
      }),
    ],
  })
  class S3BenchModule {}

  const app = await NestFactory.create(S3BenchModule, { logger: ['error', 'warn'] });
  (app.getHttpServer() as Server).requestTimeout = 0;
  await app.listen(0, '127.0.0.1');
  const address = (app.getHttpServer() as Server).address();
  console.log(
    `ValiBlob S3 bench server listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
