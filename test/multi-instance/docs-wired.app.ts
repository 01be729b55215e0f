/*
 * An app wired exactly as docs/typeorm.md ("Wiring in a NestJS app", forRoot) and docs/redis.md ("Wiring") show,
 * with no lock options: what a new user gets by following the docs. Started as a child process by
 * docs-wired.race.e2e.spec.ts: `WIRING=typeorm|redis`, `DATABASE_URL`, `REDIS_URL` + `KEY_PREFIX` (a unique key
 * prefix per test run instead of the docs' default), `STORAGE_DIR`. Prints `listening on <port>`.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ValiBlobModule } from '../../src';
import { RedisSessionStore } from '../../src/redis';
import { VALIBLOB_MIGRATIONS } from '../../src/typeorm';

const root = process.env.STORAGE_DIR!;

function typeOrmApp() {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: process.env.DATABASE_URL,
        autoLoadEntities: true,
        migrations: VALIBLOB_MIGRATIONS,
        migrationsRun: true,
      }),
      ValiBlobModule.forRoot({
        providers: { local: { root } },
        sessionStore: { type: 'typeorm' },
      }),
    ],
  })
  class AppModule {}
  return AppModule;
}

function redisApp() {
  @Module({
    imports: [
      ValiBlobModule.forRoot({
        providers: { local: { root } },
        sessionStore: {
          useFactory: () =>
            new RedisSessionStore({
              connection: process.env.REDIS_URL,
              keyPrefix: `${process.env.KEY_PREFIX}session:`,
            }),
        },
      }),
    ],
  })
  class AppModule {}
  return AppModule;
}

async function main(): Promise<void> {
  const app = await NestFactory.create(process.env.WIRING === 'redis' ? redisApp() : typeOrmApp(), {
    logger: ['error', 'warn'],
  });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  // eslint-disable-next-line no-console -- the parent test reads the port from this stdout line
  console.log(`listening on ${address.port}`);
}

void main();
