import { DataSource } from 'typeorm';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { PG_URL, serviceAvailable } from '../support/services';
import { createScratchPostgres, migratedDataSource, ScratchPostgres, scratchDir } from '../typeorm/typeorm-test-db';
import { describeAdmin } from './admin.cases';

/** One migrated database per kind; each test starts from empty session and quota tables. */
function typeormStore(kind: 'PostgreSQL' | 'SQLite') {
  let dataSource: DataSource | undefined;
  let scratch: ScratchPostgres | undefined;
  let dir: { dir: string; cleanup(): void } | undefined;
  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await scratch?.drop();
    dir?.cleanup();
  });
  return async () => {
    if (!dataSource) {
      if (kind === 'PostgreSQL') {
        scratch = await createScratchPostgres('admin');
        dataSource = await migratedDataSource(scratch.url);
      } else {
        dir = scratchDir('admin-sqlite');
        dataSource = await migratedDataSource(`sqlite:${dir.dir}/sessions.sqlite`);
      }
    }
    await dataSource.query('DELETE FROM valiblob_upload_sessions');
    await dataSource.query('DELETE FROM valiblob_quota_entries');
    return { store: new TypeOrmSessionStore(dataSource), close: async () => undefined };
  };
}

describeAdmin('the TypeORM store (SQLite)', typeormStore('SQLite'));
describeAdmin('the TypeORM store (PostgreSQL)', typeormStore('PostgreSQL'), () =>
  serviceAvailable('PostgreSQL', PG_URL),
);
