import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { UploadSessionEntity } from '../../src/sessions/typeorm/upload-session.entity';
import { runSessionStoreContract, SessionStoreContractOptions } from '../../src/testing';
import { describePostgres } from './postgres-gate';
import { createScratchPostgres, migratedDataSource, ScratchPostgres, scratchDir } from './typeorm-test-db';

/** The partition section on the DataSource the current test's fixture uses (same database, other partitions). */
function partitionsOn(dataSource: () => DataSource): SessionStoreContractOptions {
  return { partitioned: async (partition) => ({ store: new TypeOrmSessionStore(dataSource(), { partition }) }) };
}

// SQLite in-memory: a fresh database per test (cheap), so every test starts empty.
let memory: DataSource;
runSessionStoreContract(
  'typeorm sqlite :memory:',
  async () => {
    memory = await migratedDataSource('sqlite::memory:');
    const dataSource = memory;
    return { store: new TypeOrmSessionStore(dataSource), dispose: () => dataSource.destroy() };
  },
  partitionsOn(() => memory),
);

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
  runSessionStoreContract(
    'typeorm sqlite file',
    async () => {
      await dataSource.getRepository(UploadSessionEntity).clear();
      return { store: new TypeOrmSessionStore(dataSource) };
    },
    partitionsOn(() => dataSource),
  );
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
  runSessionStoreContract(
    'typeorm postgres',
    async () => {
      await dataSource.getRepository(UploadSessionEntity).clear();
      return { store: new TypeOrmSessionStore(dataSource) };
    },
    partitionsOn(() => dataSource),
  );
});
