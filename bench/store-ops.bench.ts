import Redis from 'ioredis';
import { Client } from 'pg';
import { join } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { VALIBLOB_ENTITIES, VALIBLOB_MIGRATIONS } from '../migrations';
import { RedisSessionStore } from '../src/redis';
import { MemorySessionStore } from '../src/sessions/memory/memory-session.store';
import { ResumableSessionStore } from '../src/sessions/resumable-session-store';
import { dataSourceOptionsFromUrl, VALIBLOB_MIGRATIONS_TABLE } from '../src/sessions/typeorm/database-url';
import { TypeOrmSessionStore } from '../src/sessions/typeorm/typeorm-session.store';
import { UploadSession, UploadStatus } from '../src/sessions/upload-session.model';
import { PG_URL, portOpen, REDIS_URL } from '../test/support/services';
import { Benchmark, BenchResult, BenchRow } from './support/bench-result';
import { QUICK, withScratch } from './support/processes';

const OPS = QUICK ? 300 : 3000;
const MEMORY_OPS = QUICK ? 20_000 : 200_000;

function session(uploadId: string): UploadSession {
  const now = Date.now();
  return {
    uploadId,
    path: `bench/${uploadId}`,
    provider: 'local',
    totalSize: 1e12,
    uploadedBytes: 0,
    contentType: 'application/octet-stream',
    metadata: { filename: 'bench.bin' },
    ownerId: null,
    status: UploadStatus.Pending,
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 86_400_000,
    version: 1,
    providerState: { staging: uploadId },
    checksum: null,
    partial: false,
    parts: null,
    fence: 0,
    conflict: 'fail',
  };
}

/** ops/s of `ops` sequential calls (one in flight at a time: the per-chunk cost an upload pays). */
async function opsPerSecond(ops: number, call: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(50, ops); i++) await call(i); // warm-up (JIT, statement caches)
  const started = process.hrtime.bigint();
  for (let i = 50; i < ops + 50; i++) await call(i);
  return ops / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** `advance` through the store: offset i → i+1 with the patch the engine sends for every chunk. */
async function advanceOps(store: ResumableSessionStore, ops: number): Promise<number> {
  const id = `bench-advance-${Date.now()}`;
  await store.save(session(id));
  const rate = await opsPerSecond(ops, async (i) => {
    const now = Date.now();
    const updated = await store.advance(id, i, {
      uploadedBytes: i + 1,
      providerState: { staging: id },
      status: UploadStatus.InProgress,
      updatedAt: now,
      expiresAt: now + 86_400_000,
      fence: 1,
    });
    if (!updated) throw new Error(`advance at ${i} lost its compare-and-set`);
  });
  await store.delete(id);
  return rate;
}

async function typeOrmSource(url: string): Promise<DataSource> {
  const dataSource = new DataSource({
    ...dataSourceOptionsFromUrl(url),
    entities: VALIBLOB_ENTITIES,
    migrations: VALIBLOB_MIGRATIONS,
    migrationsTableName: VALIBLOB_MIGRATIONS_TABLE,
  } as DataSourceOptions);
  await dataSource.initialize();
  await dataSource.runMigrations();
  return dataSource;
}

const RAW_UPDATE =
  'UPDATE valiblob_upload_sessions SET uploaded_bytes = $1, updated_at = $2 ' +
  'WHERE upload_id = $3 AND uploaded_bytes = $4';

/**
 * Benchmark 4: `advance` (the one store call per chunk) on each store, sequentially, next to the plainest call the
 * same driver can make: `Map.set`, a prepared-free `UPDATE … WHERE upload_id = ? AND uploaded_bytes = ?` through
 * sqlite3 / pg, and a Redis `SET` of a same-sized JSON value.
 */
export const storeOpsBenchmark: Benchmark = {
  name: 'store-ops',
  title: 'Session store `advance` ops/s (sequential)',
  async run(): Promise<BenchResult> {
    const rows: BenchRow[] = [];
    const row = (store: string, advance: number, raw: number, rawCall: string) =>
      rows.push({
        store,
        'advance ops/s': Math.round(advance),
        'raw ops/s': Math.round(raw),
        'raw call': rawCall,
        'advance / raw': Number((advance / raw).toFixed(2)),
      });

    // Memory
    {
      const map = new Map<string, UploadSession>();
      const s = session('raw');
      const raw = await opsPerSecond(MEMORY_OPS, async (i) => void map.set('raw', { ...s, uploadedBytes: i }));
      row('memory', await advanceOps(new MemorySessionStore(), MEMORY_OPS), raw, 'Map.set');
    }

    // SQLite (file, WAL — what the runnable server uses)
    await withScratch('store-ops', async (dir) => {
      const dataSource = await typeOrmSource(`sqlite:${join(dir, 'ops.sqlite')}`);
      try {
        const advance = await advanceOps(new TypeOrmSessionStore(dataSource), OPS);
        await new TypeOrmSessionStore(dataSource).save(session('raw'));
        // The sqlite3 Database object TypeORM holds: the raw driver call on the very same connection.
        const db = (dataSource.driver as unknown as { databaseConnection: import('sqlite3').Database })
          .databaseConnection;
        const raw = await opsPerSecond(
          OPS,
          (i) =>
            new Promise<void>((resolve, reject) =>
              db.run(RAW_UPDATE.replace(/\$\d/g, '?'), [i + 1, Date.now(), 'raw', i], (error) =>
                error ? reject(error) : resolve(),
              ),
            ),
        );
        row('SQLite (TypeORM, WAL)', advance, raw, 'sqlite3 UPDATE');
      } finally {
        await dataSource.destroy();
      }
    });

    // PostgreSQL (a scratch database of its own)
    if (await portOpen(PG_URL)) {
      const dbName = `valiblob_bench_ops_${Date.now()}`;
      const admin = new Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${dbName}"`);
      const url = new URL(PG_URL);
      url.pathname = `/${dbName}`;
      try {
        const dataSource = await typeOrmSource(url.toString());
        const client = new Client({ connectionString: url.toString() });
        try {
          const advance = await advanceOps(new TypeOrmSessionStore(dataSource), OPS);
          await new TypeOrmSessionStore(dataSource).save(session('raw'));
          await client.connect();
          const raw = await opsPerSecond(OPS, (i) => client.query(RAW_UPDATE, [i + 1, Date.now(), 'raw', i]));
          row('PostgreSQL (TypeORM)', advance, raw, 'pg UPDATE');
        } finally {
          await client.end().catch(() => undefined);
          await dataSource.destroy();
        }
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
        await admin.end();
      }
    } else {
      rows.push({ store: 'PostgreSQL', 'advance ops/s': 'skipped: not reachable' });
    }

    // Redis
    if (await portOpen(REDIS_URL)) {
      const prefix = `valiblob-bench-${Date.now()}:`;
      const store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix: prefix });
      const client = new Redis(REDIS_URL);
      try {
        const advance = await advanceOps(store, OPS);
        const value = JSON.stringify(session('raw'));
        const raw = await opsPerSecond(OPS, () => client.set(`${prefix}raw`, value));
        row('Redis (Lua CAS)', advance, raw, 'ioredis SET');
      } finally {
        const keys = await client.keys(`${prefix}*`);
        if (keys.length > 0) await client.del(...keys);
        client.disconnect();
        await store.onModuleDestroy();
      }
    } else {
      rows.push({ store: 'Redis', 'advance ops/s': 'skipped: not reachable' });
    }

    return {
      name: 'store-ops',
      title: this.title,
      rows,
      notes: [
        `${OPS} sequential calls per store (memory: ${MEMORY_OPS}) after 50 warm-up calls; ` +
          "one call in flight, as one upload's chunks are.",
        '`advance` = atomic compare-and-set of offset + status + fence + expiry ' +
          '(+ read-back on SQLite, RETURNING on PostgreSQL, Lua on Redis).',
      ],
    };
  },
};
