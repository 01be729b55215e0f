/**
 * Stale-upload cleanup benchmark: sweep N expired sessions (default 100,000) from PostgreSQL through the TypeORM
 * store, in batches, and print the time and memory. Run standalone:
 *
 *   node -r @swc-node/register bench/cleanup.bench.ts            # PG_URL (default postgres://postgres@127.0.0.1:5432/test)
 *   SESSIONS=20000 BATCH=500 node -r @swc-node/register bench/cleanup.bench.ts
 *
 * It creates a scratch database next to PG_URL's, seeds it with one INSERT … SELECT generate_series (half
 * unfinished uploads holding provider state, a quarter completed tombstones, a quarter aborted tombstones),
 * runs `StaleUploadCleanupService.runOnce()` and drops the database. "Flat memory" shows as an RSS range
 * during the sweep that does not grow with N; `maxRSS` is the process peak (seeding included).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { VALIBLOB_ENTITIES, VALIBLOB_MIGRATIONS } from '../migrations';
import { StaleUploadCleanupService } from '../src/cleanup/stale-upload-cleanup.service';
import { dataSourceOptionsFromUrl, VALIBLOB_MIGRATIONS_TABLE } from '../src/sessions/typeorm/database-url';
import { TypeOrmSessionStore } from '../src/sessions/typeorm/typeorm-session.store';
import { ValiBlobModule } from '../src';

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SESSIONS = Number(process.env.SESSIONS ?? 100_000);
const BATCH = Number(process.env.BATCH ?? 1000);

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const dbName = `valiblob_bench_cleanup_${Date.now()}`;
  await admin(`CREATE DATABASE "${dbName}"`);
  const url = new URL(PG_URL);
  url.pathname = `/${dbName}`;
  const dataSource = new DataSource({
    ...dataSourceOptionsFromUrl(url.toString()),
    entities: VALIBLOB_ENTITIES,
    migrations: VALIBLOB_MIGRATIONS,
    migrationsTableName: VALIBLOB_MIGRATIONS_TABLE,
  } as DataSourceOptions);
  try {
    await dataSource.initialize();
    await dataSource.runMigrations();

    const seedStarted = Date.now();
    const now = Date.now();
    await dataSource.query(
      `INSERT INTO valiblob_upload_sessions
         (upload_id, path, provider, total_size, uploaded_bytes, content_type, metadata, owner_id, status,
          created_at, updated_at, expires_at, version, provider_state, checksum, fence)
       SELECT 'bench-' || lpad(i::text, 8, '0'), 'bench/' || i, 'mem', 1000, 0, NULL, '{}', NULL,
              CASE WHEN i % 4 < 2 THEN 'InProgress' WHEN i % 4 = 2 THEN 'Complete' ELSE 'Aborted' END,
              $1::bigint - 90000000, $1::bigint - 90000000, $1::bigint - 3600000 - i, 1,
              CASE WHEN i % 4 < 2 THEN '{"staging":"s' || i || '"}' ELSE NULL END, NULL, 0
       FROM generate_series(1, $2::int) AS i`,
      [now, SESSIONS],
    );
    const seedSeconds = (Date.now() - seedStarted) / 1000;

    @Module({
      imports: [
        ValiBlobModule.forRoot({
          providers: { mem: { type: 'memory' } },
          sessionStore: new TypeOrmSessionStore(dataSource),
          cleanup: { enabled: false, batchSize: BATCH },
          http: { tus: false, rest: false },
        }),
      ],
    })
    class BenchModule {}
    const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
    const cleanup = app.get(StaleUploadCleanupService);

    global.gc?.();
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 100);
    const started = process.hrtime.bigint();
    const report = await cleanup.runOnce();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    const [{ left }] = await dataSource.query('SELECT count(*)::int AS left FROM valiblob_upload_sessions');
    await app.close();

    const sweepRss = rss.length ? rss : [process.memoryUsage().rss];
    console.log(
      JSON.stringify(
        {
          sessions: SESSIONS,
          batchSize: BATCH,
          seedSeconds,
          sweepSeconds: Number(seconds.toFixed(2)),
          sessionsPerSecond: Math.round(SESSIONS / seconds),
          report,
          leftInTable: left,
          rssDuringSweep: { min: mib(Math.min(...sweepRss)), max: mib(Math.max(...sweepRss)) },
          peakRss: mib(process.resourceUsage().maxRSS * 1024),
        },
        null,
        2,
      ),
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await admin(`DROP DATABASE IF EXISTS "${dbName}"`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
