// The one DataSource of the TypeORM CLI (`npm run migration:run|revert|show` → `typeorm … -d ormconfig.ts`).
// DATABASE_URL picks the database: `sqlite:./data/vali-blob.sqlite` (default) or `postgres://…`. The SQLite driver follows
// the installed TypeORM (1.x: better-sqlite3; 0.3: sqlite3, else better-sqlite3); SQLITE_DRIVER forces one.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { VALIBLOB_ENTITIES, VALIBLOB_MIGRATIONS } from './migrations';
import {
  DEFAULT_DATABASE_URL,
  dataSourceOptionsFromUrl,
  VALIBLOB_MIGRATIONS_TABLE,
} from './src/sessions/typeorm/database-url';
import type { SqliteDriverPackage } from './src/sessions/typeorm/sqlite-driver';

export default new DataSource({
  ...dataSourceOptionsFromUrl(process.env.DATABASE_URL || DEFAULT_DATABASE_URL, {
    sqliteDriver: (process.env.SQLITE_DRIVER || undefined) as SqliteDriverPackage | undefined,
  }),
  entities: VALIBLOB_ENTITIES,
  migrations: VALIBLOB_MIGRATIONS,
  migrationsTableName: VALIBLOB_MIGRATIONS_TABLE,
});
