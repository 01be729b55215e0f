import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValiBlobModule } from '../../src/vali-blob.module';
import type { ValiBlobHttpOptions, ValiBlobModuleOptions } from '../../src/vali-blob.options';

/** HTTP platforms every tus suite runs on. */
export const PLATFORMS = ['express', 'fastify'] as const;
/** One of `PLATFORMS`. */
export type Platform = (typeof PLATFORMS)[number];

/** A ValiBlob app listening on a real socket. */
export interface TusTestApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `<origin>/files` */
  endpoint: string;
  /** Root directory of the local storage provider. */
  root: string;
  close(): Promise<void>;
}

/**
 * Start a Nest app with ValiBlobModule on `platform`, local storage in a fresh temp dir, listening on port 0.
 * Sets `requestTimeout = 0` as the runnable server does. `fastifyOptions` go to `new FastifyAdapter(...)`
 * (e.g. router options such as `caseSensitive`); `nestOptions` go to `NestFactory.create` (e.g. `rawBody`).
 */
export async function startTusApp(
  platform: Platform,
  options: ValiBlobModuleOptions = {},
  http: ValiBlobHttpOptions = { tus: { path: 'files' }, rest: { path: 'uploads' } },
  globalPrefix?: string,
  fastifyOptions?: ConstructorParameters<typeof FastifyAdapter>[0],
  nestOptions: NestApplicationOptions = {},
): Promise<TusTestApp> {
  const root = await mkdtemp(join(tmpdir(), 'valiblob-tus-'));
  @Module({
    imports: [
      ValiBlobModule.forRoot({
        providers: { local: { root, fsync: false } },
        cleanup: { enabled: false },
        ...options,
        http,
      }),
    ],
  })
  class TestModule {}
  const app =
    platform === 'fastify'
      ? await NestFactory.create(TestModule, new FastifyAdapter(fastifyOptions), { logger: ['error'], ...nestOptions })
      : await NestFactory.create(TestModule, { logger: ['error'], ...nestOptions });
  if (globalPrefix) app.setGlobalPrefix(globalPrefix);
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  server.requestTimeout = 0;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  const prefix = globalPrefix ? `/${globalPrefix}` : '';
  const tusPath = http.tus ? http.tus.path : 'files';
  return {
    app,
    origin,
    endpoint: `${origin}${prefix}/${tusPath}`,
    root,
    close: async () => {
      await app.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
