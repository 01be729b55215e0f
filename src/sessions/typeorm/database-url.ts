import type { DataSourceOptions } from 'typeorm';
import { chooseSqliteDriver, quietSqlite3, SqliteDriverPackage } from './sqlite-driver';

/** Default database of the runnable server and of `ormconfig.ts`. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/vali-blob.sqlite';

/** Options of `dataSourceOptionsFromUrl`. */
export interface DatabaseUrlOptions {
  /**
   * SQLite driver for `sqlite:` URLs. Default: chosen by the installed TypeORM (`chooseSqliteDriver`): 1.x →
   * `better-sqlite3`; 0.3 → `sqlite3` when installed, else `better-sqlite3`.
   */
  sqliteDriver?: SqliteDriverPackage;
}

/**
 * `DATABASE_URL` → TypeORM connection options (entities and migrations are added by the caller):
 * - `sqlite:<path>` (relative to the working directory) or `sqlite::memory:` — the SQLite driver the installed
 *   TypeORM supports (see `DatabaseUrlOptions.sqliteDriver`; a missing one is a `SqliteDriverError` naming the
 *   package), WAL journal for files (readers never block the writer) and a busy timeout so concurrent writers wait
 *   instead of failing with "database is locked";
 * - `postgres://user:pass@host:port/db` (or `postgresql://`) — `pg` driver with a bounded connect time-out, so
 *   an unreachable server surfaces as 503 quickly instead of hanging requests.
 */
export function dataSourceOptionsFromUrl(url: string, options: DatabaseUrlOptions = {}): DataSourceOptions {
  if (url.startsWith('sqlite:')) {
    const database = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') || ':memory:';
    const enableWAL = database !== ':memory:';
    if (chooseSqliteDriver({ driver: options.sqliteDriver }) === 'better-sqlite3') {
      // better-sqlite3 is synchronous: a writer waiting for another process's lock blocks this event loop for up
      // to `timeout`. WAL write locks last one statement, so 5 s (its default, = storeTimeoutMs) is ample.
      return { type: 'better-sqlite3', database, timeout: 5_000, enableWAL };
    }
    // sqlite3 waits on its thread pool, so a longer wait costs the event loop nothing. Only TypeORM 0.3 gets here,
    // and only 0.3's types know `type: 'sqlite'`: the cast lets this file compile against 1.x's types as well.
    const sqlite3: { type: 'sqlite'; database: string; busyTimeout: number; enableWAL: boolean; driver: unknown } = {
      type: 'sqlite',
      database,
      busyTimeout: 10_000,
      enableWAL,
      // Not verbose: sqlite3's verbose mode formats every statement's arguments (see quietSqlite3).
      driver: quietSqlite3(),
    };
    return sqlite3 as unknown as DataSourceOptions;
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    return { type: 'postgres', url, extra: { connectionTimeoutMillis: 5_000, max: 10 } };
  }
  throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got ${url.replace(/\/\/[^@/]*@/, '//***@')})`);
}

/** Migrations table of the CLI DataSource (`ormconfig.ts`) and the runnable server; apart from an app's own. */
export const VALIBLOB_MIGRATIONS_TABLE = 'valiblob_migrations';
