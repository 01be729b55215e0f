import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { VALIBLOB_MIGRATIONS } from '../../migrations';
import { describePostgres } from './postgres-gate';
import { createScratchPostgres, migratedDataSource, ScratchPostgres, scratchDir } from './typeorm-test-db';

const VALIBLOB_TABLES = ['valiblob_quota_entries', 'valiblob_upload_locks', 'valiblob_upload_sessions'];

/** SQL that `typeorm migration:generate` would emit to bring the database in line with the entities. */
async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const log = await dataSource.driver.createSchemaBuilder().log();
  return log.upQueries.map((q) => q.query);
}

async function tableNames(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    const tables = await runner.getTables(VALIBLOB_TABLES);
    return tables.map((t) => t.name.replace(/^public\./, '')).sort();
  } finally {
    await runner.release();
  }
}

async function indexNames(dataSource: DataSource, table: string): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    return ((await runner.getTable(table))?.indices ?? []).map((i) => i.name!).sort();
  } finally {
    await runner.release();
  }
}

function migrationContract(name: string, url: () => string) {
  it(`${name}: migrations name themselves with a 13-digit timestamp`, () => {
    for (const Migration of VALIBLOB_MIGRATIONS) expect(new Migration().name).toMatch(/^[A-Za-z]+\d{13}$/);
  });

  it(`${name}: after the migrations, migration:generate sees no entity difference; down reverts fully`, async () => {
    const dataSource = await migratedDataSource(url());
    try {
      expect(await tableNames(dataSource)).toEqual(VALIBLOB_TABLES);
      expect(await indexNames(dataSource, 'valiblob_upload_sessions')).toEqual([
        'IDX_valiblob_upload_sessions_owner_id',
        // AddSessionPartition replaced the plain expires_at index: every store query names its partition.
        'IDX_valiblob_upload_sessions_partition_expires_at',
        'IDX_valiblob_upload_sessions_path',
        'IDX_valiblob_upload_sessions_status_expires_at',
      ]);
      expect(await indexNames(dataSource, 'valiblob_quota_entries')).toEqual(['IDX_valiblob_quota_entries_quota_key']);
      expect(await pendingSchemaChanges(dataSource)).toEqual([]);
      // Running again is a no-op (TypeORM records applied migrations).
      expect(await dataSource.runMigrations()).toEqual([]);

      for (let i = 0; i < VALIBLOB_MIGRATIONS.length; i++) await dataSource.undoLastMigration();
      expect(await tableNames(dataSource)).toEqual([]);
      // With the tables gone the diff is non-empty again: proves the diff check above can fail.
      expect((await pendingSchemaChanges(dataSource)).length).toBeGreaterThan(0);

      // And up again after down.
      await dataSource.runMigrations();
      expect(await pendingSchemaChanges(dataSource)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });
}

describe('VALIBLOB_MIGRATIONS on SQLite', () => {
  const tmp = scratchDir('migrations');
  afterAll(() => tmp.cleanup());
  migrationContract('sqlite file', () => `sqlite:${join(tmp.dir, 'm.sqlite')}`);
});

describePostgres('VALIBLOB_MIGRATIONS on PostgreSQL', () => {
  let scratch: ScratchPostgres;
  beforeAll(async () => {
    scratch = await createScratchPostgres('migrations');
  });
  afterAll(async () => scratch?.drop());
  migrationContract('postgres', () => scratch.url);
});
