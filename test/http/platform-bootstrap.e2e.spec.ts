import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StorageProvider } from '../../src/storage/storage-provider';
import { ValiBlobModule } from '../../src/vali-blob.module';
import { httpRequest } from '../support/http-client';
import { Platform } from '../tus/tus-app';
import { EACH_PLATFORM } from './rest-app';

const HTTP = { rest: { path: 'uploads' }, blobs: { path: 'blobs' }, tus: false } as const;

/** The two ways apps bootstrap: `Test.createTestingModule` + forRoot, and `NestFactory` + forRootAsync. */
async function bootstrap(platform: Platform, style: 'testing' | 'async', root: string): Promise<INestApplication> {
  const adapter = () => (platform === 'fastify' ? new FastifyAdapter() : undefined);
  if (style === 'testing') {
    const moduleRef = await Test.createTestingModule({
      imports: [ValiBlobModule.forRoot({ providers: { local: { root } }, cleanup: { enabled: false }, http: HTTP })],
    }).compile();
    // The adapter is chosen only here, after every instance exists.
    const fastify = adapter();
    return fastify
      ? moduleRef.createNestApplication(fastify, { logger: ['error'] })
      : moduleRef.createNestApplication({ logger: ['error'] });
  }
  @Module({
    imports: [
      ValiBlobModule.forRootAsync({
        useFactory: async () => ({ providers: { local: { root } }, cleanup: { enabled: false } }),
        http: HTTP,
      }),
    ],
  })
  class AsyncModule {}
  const fastify = adapter();
  return fastify
    ? NestFactory.create(AsyncModule, fastify, { logger: ['error'] })
    : NestFactory.create(AsyncModule, { logger: ['error'] });
}

/**
 * The blob route and the library's body-error answers follow the platform however the app is bootstrapped:
 * the platform is known only once the application is created, after the module was defined.
 */
describe.each(EACH_PLATFORM)('bootstrap styles on %s', (platform) => {
  for (const style of ['testing', 'async'] as const) {
    it(`${style}: the blob route mounts and a refused body gets the library's code`, async () => {
      const root = await mkdtemp(join(tmpdir(), 'vb-boot-'));
      const app = await bootstrap(platform, style, root);
      try {
        await app.listen(0, '127.0.0.1');
        const base = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as { port: number }).port}`;
        await app.get(StorageProvider).put('a/b.txt', Readable.from([Buffer.from('hi')]));
        const read = await httpRequest(`${base}/blobs/a/b.txt`);
        expect([read.status, read.body.toString()]).toEqual([200, 'hi']);
        const refused = await httpRequest(`${base}/uploads`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{',
        });
        expect([refused.status, refused.json?.code]).toEqual([400, 'INVALID_REQUEST']);
      } finally {
        await app.close();
        await rm(root, { recursive: true, force: true });
      }
    });
  }
});

describe('one module definition on both platforms', () => {
  it('the same AppModule serves the blob route on Express, then Fastify, then Express again', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vb-boot-'));
    @Module({
      imports: [ValiBlobModule.forRoot({ providers: { local: { root } }, cleanup: { enabled: false }, http: HTTP })],
    })
    class AppModule {}
    try {
      for (const platform of ['express', 'fastify', 'express'] as const) {
        const app =
          platform === 'fastify'
            ? await NestFactory.create(AppModule, new FastifyAdapter(), { logger: ['error'] })
            : await NestFactory.create(AppModule, { logger: ['error'] });
        try {
          await app.listen(0, '127.0.0.1');
          const base = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as { port: number }).port}`;
          await app.get(StorageProvider).put('x/y.txt', Readable.from([Buffer.from(platform)]));
          const read = await httpRequest(`${base}/blobs/x/y.txt`);
          expect([platform, read.status, read.body.toString()]).toEqual([platform, 200, platform]);
        } finally {
          await app.close();
        }
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
