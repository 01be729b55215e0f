import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { VALIBLOB_ENTITIES, VALIBLOB_MIGRATIONS } from '../../migrations';
import {
  DatabaseUrlOptions,
  dataSourceOptionsFromUrl,
  VALIBLOB_MIGRATIONS_TABLE,
} from '../../src/sessions/typeorm/database-url';
import { chooseSqliteDriver, SqliteDriverPackage } from '../../src/sessions/typeorm/sqlite-driver';
import { PG_URL } from '../support/services';

/** A uniquely named PostgreSQL database for one spec file; `drop()` removes it (terminating leftovers). */
export interface ScratchPostgres {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Create a fresh database next to PG_URL's (same server and credentials). */
export async function createScratchPostgres(label: string): Promise<ScratchPostgres> {
  const name = `valiblob_${label}_${Date.now()}_${randomBytes(3).toString('hex')}`.toLowerCase();
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      admin(async (c) => {
        await c.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await c.query(`DROP DATABASE IF EXISTS "${name}"`);
      }),
  };
}

/** A temp directory removed by `cleanup()`. */
export function scratchDir(label: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `valiblob-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** DataSource for a DATABASE_URL with the library's entities and migrations (not yet initialised). */
export function valiBlobDataSource(
  url: string,
  extra: Partial<DataSourceOptions> = {},
  urlOptions: DatabaseUrlOptions = {},
): DataSource {
  return new DataSource({
    ...dataSourceOptionsFromUrl(url, urlOptions),
    entities: VALIBLOB_ENTITIES,
    migrations: VALIBLOB_MIGRATIONS,
    migrationsTableName: VALIBLOB_MIGRATIONS_TABLE,
    ...extra,
  } as DataSourceOptions);
}

/** Initialise and run the migrations (the schema comes from the migrations, never from `synchronize`). */
export async function migratedDataSource(
  url: string,
  extra: Partial<DataSourceOptions> = {},
  urlOptions: DatabaseUrlOptions = {},
): Promise<DataSource> {
  const dataSource = valiBlobDataSource(url, extra, urlOptions);
  await dataSource.initialize();
  await dataSource.runMigrations();
  return dataSource;
}

/**
 * The SQLite drivers this TypeORM line supports AND that are installed: better-sqlite3 on 1.x; sqlite3 and, when
 * installed, better-sqlite3 on 0.3 (both are supported there).
 */
export function installedSqliteDrivers(): SqliteDriverPackage[] {
  return (['sqlite3', 'better-sqlite3'] as const).filter((driver) => {
    try {
      return chooseSqliteDriver({ driver }) === driver;
    } catch {
      return false;
    }
  });
}
