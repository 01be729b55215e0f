import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { UploadSessionEntity } from '../../src/sessions/typeorm/upload-session.entity';
import { runSessionStoreContract } from '../../src/testing';
import { describePostgres } from './postgres-gate';
import { createScratchPostgres, migratedDataSource, ScratchPostgres, scratchDir } from './typeorm-test-db';

// SQLite in-memory: a fresh database per test (cheap), so every test starts empty.
runSessionStoreContract('typeorm sqlite :memory:', async () => {
  const dataSource = await migratedDataSource('sqlite::memory:');
  return { store: new TypeOrmSessionStore(dataSource), dispose: () => dataSource.destroy() };
});

// SQLite file: one migrated file for the suite, emptied before each test (WAL + busy timeout as in production).
describe('on a SQLite file', () => {
  const tmp = scratchDir('sqlite-store');
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await migratedDataSource(`sqlite:${join(tmp.dir, 'sessions.sqlite')}`);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    tmp.cleanup();
  });
  runSessionStoreContract('typeorm sqlite file', async () => {
    await dataSource.getRepository(UploadSessionEntity).clear();
    return { store: new TypeOrmSessionStore(dataSource) };
  });
});

// PostgreSQL: a scratch database for this file, dropped afterwards.
describePostgres('on PostgreSQL', () => {
  let scratch: ScratchPostgres;
  let dataSource: DataSource;
  beforeAll(async () => {
    scratch = await createScratchPostgres('store');
    dataSource = await migratedDataSource(scratch.url);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await scratch?.drop();
  });
  runSessionStoreContract('typeorm postgres', async () => {
    await dataSource.getRepository(UploadSessionEntity).clear();
    return { store: new TypeOrmSessionStore(dataSource) };
  });
});
