import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * Creates `valiblob_quota_entries` (TypeOrmQuotaStore): one row per upload counted against a byte quota. Written
 * with TypeORM's schema API, like `CreateValiBlobTables`, so the same class produces the right DDL on SQLite and
 * PostgreSQL; mirrors `QuotaEntryEntity` exactly (the migrations test asserts an empty schema diff).
 */
export class CreateQuotaEntries1765100000000 implements MigrationInterface {
  /** Explicit: bundlers mangle class names, and TypeORM records this string in its migrations table. */
  name = 'CreateQuotaEntries1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'valiblob_quota_entries',
        columns: [
          {
            name: 'upload_id',
            type: 'varchar',
            length: '128',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_valiblob_quota_entries',
          },
          { name: 'quota_key', type: 'varchar', length: '255' },
          { name: 'path', type: 'varchar', length: '1024', isNullable: true },
          { name: 'bytes', type: 'bigint' },
          { name: 'committed', type: 'boolean' },
          { name: 'created_at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'IDX_valiblob_quota_entries_quota_key', columnNames: ['quota_key'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // dropTable also drops the table's index on both drivers.
    await queryRunner.dropTable('valiblob_quota_entries');
  }
}
