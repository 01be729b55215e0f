import { DataSource } from 'typeorm';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { migratedDataSource, scratchDir } from '../typeorm/typeorm-test-db';
import { describeAdmin } from './admin.cases';

/** The admin cases on the TypeORM store over a migrated SQLite database; each test starts from empty tables. */
let dataSource: DataSource | undefined;
const dir = scratchDir('admin-sqlite');
afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  dir.cleanup();
});

describeAdmin('the TypeORM store (SQLite)', async () => {
  dataSource ??= await migratedDataSource(`sqlite:${dir.dir}/sessions.sqlite`);
  await dataSource.query('DELETE FROM valiblob_upload_sessions');
  await dataSource.query('DELETE FROM valiblob_quota_entries');
  return { store: new TypeOrmSessionStore(dataSource), close: async () => undefined };
});
