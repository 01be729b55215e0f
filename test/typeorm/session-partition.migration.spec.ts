import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AddSessionPartition1765200000000, VALIBLOB_MIGRATIONS } from '../../migrations';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { makeTestSession } from '../../src/testing/session-store.contract';
import { describePostgres } from './postgres-gate';
import { createScratchPostgres, ScratchPostgres, scratchDir, valiBlobDataSource } from './typeorm-test-db';

const TABLE = 'valiblob_upload_sessions';
const BEFORE = VALIBLOB_MIGRATIONS.slice(0, VALIBLOB_MIGRATIONS.indexOf(AddSessionPartition1765200000000));

/** A row written by the schema before `AddSessionPartition` (raw SQL: the entity already has the column). */
async function seedRowBeforePartitions(url: string, uploadId: string, expiresAt: number): Promise<void> {
  const old = valiBlobDataSource(url, { migrations: BEFORE, entities: [] });
  await old.initialize();
  try {
    await old.runMigrations();
    const p = (n: number) => (old.options.type === 'postgres' ? `$${n}` : '?');
    await old.query(
      `INSERT INTO ${TABLE} (upload_id, path, provider, total_size, uploaded_bytes, content_type, metadata, owner_id,
        status, created_at, updated_at, expires_at, version, provider_state, checksum, fence, conflict, parts)
       VALUES (${p(1)}, 'legacy/a.bin', 'local', 1, 0, NULL, '{}', NULL, 'Complete', 1, 1, ${p(2)}, 1, NULL, NULL, 0,
        'fail', NULL)`,
      [uploadId, expiresAt],
    );
  } finally {
    await old.destroy();
  }
}

async function schemaOf(dataSource: DataSource): Promise<{ columns: string[]; indices: string[] }> {
  const runner = dataSource.createQueryRunner();
  try {
    const table = (await runner.getTable(TABLE))!;
    return { columns: table.columns.map((c) => c.name), indices: table.indices.map((i) => i.name!).sort() };
  } finally {
    await runner.release();
  }
}

function partitionMigrationContract(name: string, url: () => string) {
  it(`${name}: existing rows join the unpartitioned space; down drops the column and restores the index`, async () => {
    const legacy = makeTestSession().uploadId;
    const expiresAt = Date.now() - 1000;
    await seedRowBeforePartitions(url(), legacy, expiresAt);
    const current = valiBlobDataSource(url());
    await current.initialize();
    try {
      expect((await current.runMigrations()).map((m) => m.name)).toEqual(['AddSessionPartition1765200000000']);
      const schema = await schemaOf(current);
      expect(schema.columns).toContain('partition');
      expect(schema.indices).toContain('IDX_valiblob_upload_sessions_partition_expires_at');
      expect(schema.indices).not.toContain('IDX_valiblob_upload_sessions_expires_at');
      expect(await current.query(`SELECT "partition" FROM ${TABLE}`)).toEqual([{ partition: '' }]);

      // The store without a partition sees the old row exactly as before; a partitioned one does not.
      const plain = new TypeOrmSessionStore(current);
      const tenant = new TypeOrmSessionStore(current, { partition: 'tenant' });
      expect(await plain.get(legacy)).toMatchObject({ uploadId: legacy, path: 'legacy/a.bin', expiresAt });
      expect(await tenant.get(legacy)).toBeNull();
      expect((await plain.findExpired(Date.now(), 10)).map((s) => s.uploadId)).toEqual([legacy]);
      expect(await tenant.findExpired(Date.now(), 10)).toEqual([]);
      const mine = makeTestSession();
      await tenant.save(mine);

      await current.undoLastMigration();
      const reverted = await schemaOf(current);
      expect(reverted.columns).not.toContain('partition');
      expect(reverted.indices).toContain('IDX_valiblob_upload_sessions_expires_at');
      expect(reverted.indices).not.toContain('IDX_valiblob_upload_sessions_partition_expires_at');
      const ids: Array<{ upload_id: string }> = await current.query(`SELECT upload_id FROM ${TABLE}`);
      expect(ids.map((r) => r.upload_id).sort()).toEqual([legacy, mine.uploadId].sort());

      // And up again: every row (the tenant's too, its partition forgotten by down) is unpartitioned.
      await current.runMigrations();
      expect(await plain.get(mine.uploadId)).toMatchObject({ uploadId: mine.uploadId });
    } finally {
      await current.destroy();
    }
  });
}

describe('AddSessionPartition on SQLite', () => {
  const tmp = scratchDir('partition-migration');
  afterAll(() => tmp.cleanup());
  partitionMigrationContract('sqlite file', () => `sqlite:${join(tmp.dir, 'p.sqlite')}`);
});

describePostgres('AddSessionPartition on PostgreSQL', () => {
  let scratch: ScratchPostgres;
  beforeAll(async () => {
    scratch = await createScratchPostgres('partition_migration');
  });
  afterAll(async () => scratch?.drop());
  partitionMigrationContract('postgres', () => scratch.url);
});
