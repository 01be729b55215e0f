/**
 * The ValiBlob app the cloud benchmark's servers run: the library module with one storage provider and memory
 * sessions, tus at `/files` and REST at `/uploads`, on a free loopback port. The runnable server only knows local
 * disk, hence this small app. Prints `listening on http://127.0.0.1:<port>`.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { ValiBlobModule } from '../../src';
import type { StorageProvider } from '../../src/storage/storage-provider';

/** Start ValiBlob with `provider` as its only (default) storage, named `name`. */
export async function startCloudValiBlob(name: string, provider: StorageProvider): Promise<void> {
  @Module({
    imports: [
      ValiBlobModule.forRoot({
        defaultProvider: name,
        providers: { [name]: provider },
        // Memory sessions: the benchmark measures the storage path, not a session store.
        sessionStore: 'memory',
        // `WHOLE_FILE_CHECKSUM=false`: the context row without the whole-file sha256 (the @tus stores hash nothing).
        wholeFileChecksum: process.env.WHOLE_FILE_CHECKSUM !== 'false',
        cleanup: { enabled: false },
        http: { tus: { path: 'files' }, rest: { path: 'uploads' } },
      }),
    ],
  })
  class CloudBenchModule {}

  const app = await NestFactory.create(CloudBenchModule, { logger: ['error', 'warn'] });
  (app.getHttpServer() as Server).requestTimeout = 0;
  await app.listen(0, '127.0.0.1');
  const address = (app.getHttpServer() as Server).address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`ValiBlob ${name} bench server listening on http://127.0.0.1:${port}`);
}
