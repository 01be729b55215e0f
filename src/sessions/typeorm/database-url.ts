import type { DataSourceOptions } from 'typeorm';

/** Default database of the runnable server and of `ormconfig.ts`. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/vali-blob.sqlite';

/**
 * `DATABASE_URL` → TypeORM connection options (entities and migrations are added by the caller):
 * - `sqlite:<path>` (relative to the working directory) or `sqlite::memory:` — `sqlite3` driver, WAL journal for
 *   files (readers never block the writer) and a busy timeout so concurrent writers wait instead of failing with
 *   "database is locked";
 * - `postgres://user:pass@host:port/db` (or `postgresql://`) — `pg` driver with a bounded connect time-out, so
 *   an unreachable server surfaces as 503 quickly instead of hanging requests.
 */
export function dataSourceOptionsFromUrl(url: string): DataSourceOptions {
  if (url.startsWith('sqlite:')) {
    const database = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') || ':memory:';
    const memory = database === ':memory:';
    return { type: 'sqlite', database, busyTimeout: 10_000, enableWAL: !memory };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    return { type: 'postgres', url, extra: { connectionTimeoutMillis: 5_000, max: 10 } };
  }
  throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got ${url.replace(/\/\/[^@/]*@/, '//***@')})`);
}

/** Migrations table of the CLI DataSource (`ormconfig.ts`) and the runnable server; apart from an app's own. */
export const VALIBLOB_MIGRATIONS_TABLE = 'valiblob_migrations';
