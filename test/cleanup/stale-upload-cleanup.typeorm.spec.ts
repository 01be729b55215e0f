import { DataSource } from 'typeorm';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { PG_URL, serviceAvailable } from '../support/services';
import { createScratchPostgres, migratedDataSource, ScratchPostgres, scratchDir } from '../typeorm/typeorm-test-db';
import { describeSweep } from './sweep.cases';

/** One migrated database per file; each test starts from an empty sessions table. */
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
        scratch = await createScratchPostgres('cleanup');
        dataSource = await migratedDataSource(scratch.url);
      } else {
        dir = scratchDir('cleanup-sqlite');
        dataSource = await migratedDataSource(`sqlite:${dir.dir}/sessions.sqlite`);
      }
    }
    await dataSource.query('DELETE FROM valiblob_upload_sessions');
    return { store: new TypeOrmSessionStore(dataSource), close: async () => undefined };
  };
}

describeSweep('the TypeORM store (PostgreSQL)', typeormStore('PostgreSQL'), () =>
  serviceAvailable('PostgreSQL', PG_URL),
);
describeSweep('the TypeORM store (SQLite)', typeormStore('SQLite'));
