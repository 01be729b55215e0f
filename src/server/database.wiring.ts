import { TypeOrmModule } from '@nestjs/typeorm';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { VALIBLOB_ENTITIES, VALIBLOB_MIGRATIONS } from '../../migrations';
import { dataSourceOptionsFromUrl, VALIBLOB_MIGRATIONS_TABLE } from '../sessions/typeorm/database-url';
import { TypeOrmSessionStore } from '../sessions/typeorm/typeorm-session.store';
import type { ServerConfig } from './server.config';
import type { ServerWiring } from './server.wiring';

/**
 * Sessions and upload locks in the database of `DATABASE_URL`: SQLite (`sqlite:./data/vali-blob.sqlite`, the
 * default; driver chosen by the installed TypeORM line, or `SQLITE_DRIVER`) or PostgreSQL (`postgres://…`). The migrations run at start, so a fresh database just works; several
 * server processes on one PostgreSQL database share sessions and locks.
 */
export function databaseWiring(config: ServerConfig): ServerWiring {
  const options = dataSourceOptionsFromUrl(config.databaseUrl, { sqliteDriver: config.sqliteDriver });
  // A SQLite file (either driver; TypeORM 1.x's types no longer know `sqlite`, so tell by the URL, not the type).
  const sqliteFile = config.databaseUrl.startsWith('sqlite:') ? (options as { database: string }).database : null;
  if (sqliteFile !== null && sqliteFile !== ':memory:') {
    mkdirSync(dirname(resolve(sqliteFile)), { recursive: true });
  }
  return {
    imports: [
      TypeOrmModule.forRoot({
        ...options,
        entities: VALIBLOB_ENTITIES,
        migrations: VALIBLOB_MIGRATIONS,
        migrationsTableName: VALIBLOB_MIGRATIONS_TABLE,
        migrationsRun: true,
        // Fail start-up fast on a wrong URL instead of TypeORM's default 9 retries.
        retryAttempts: 2,
        retryDelay: 1000,
      }),
    ],
    // SQL_LOCK_TTL_MS (optional, default 30 000): how long an upload stays locked after its holder died (e.g. a
    // crashed server) before a restarted or other instance can resume it. Mirrors REDIS_LOCK_TTL_MS. The upload
    // lock and the cleanup lock follow the store (SQL lease table; PostgreSQL advisory / SQLite lease cleanup lock).
    sessionStore: {
      useFactory: (dataSource: DataSource) => new TypeOrmSessionStore(dataSource, { lock: sqlLockOptions() }),
      inject: [DataSource],
    },
    description: `${options.type} at ${redact(config.databaseUrl)} (sessions + locks, migrations run at start)`,
  };
}

function sqlLockOptions(env: NodeJS.ProcessEnv = process.env): { ttlMs?: number } {
  if (!env.SQL_LOCK_TTL_MS) return {};
  const ttlMs = Number(env.SQL_LOCK_TTL_MS);
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 30)
    throw new Error('Invalid server environment:\n - SQL_LOCK_TTL_MS must be an integer >= 30 (ms)');
  return { ttlMs };
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
