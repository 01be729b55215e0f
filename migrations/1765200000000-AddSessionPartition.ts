import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';

const TABLE = 'valiblob_upload_sessions';
const EXPIRES_AT_INDEX = new TableIndex({
  name: 'IDX_valiblob_upload_sessions_expires_at',
  columnNames: ['expires_at'],
});
const PARTITION_EXPIRES_AT_INDEX = new TableIndex({
  name: 'IDX_valiblob_upload_sessions_partition_expires_at',
  columnNames: ['partition', 'expires_at'],
});

/**
 * Adds `valiblob_upload_sessions.partition` (the `TypeOrmSessionStore` `partition` option: several apps share one
 * database, each sees only its own sessions). NOT NULL with default `''`, the unpartitioned space: existing rows
 * join it, so a store without the option keeps seeing exactly what it saw. Every store query now names its
 * partition, so the expiry index becomes `(partition, expires_at)` (cleanup's `findExpired` / `deleteExpired`);
 * `down` restores the plain `expires_at` index and drops the column (rows of named partitions then mix again).
 * Mirrors `UploadSessionEntity` (the migrations test asserts an empty schema diff).
 */
export class AddSessionPartition1765200000000 implements MigrationInterface {
  /** Explicit: bundlers mangle class names, and TypeORM records this string in its migrations table. */
  name = 'AddSessionPartition1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      TABLE,
      // `default` is the SQL literal, as TypeORM's schema API expects.
      new TableColumn({ name: 'partition', type: 'varchar', length: '64', default: "''" }),
    );
    await queryRunner.createIndex(TABLE, PARTITION_EXPIRES_AT_INDEX);
    await queryRunner.dropIndex(TABLE, EXPIRES_AT_INDEX.name!);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(TABLE, EXPIRES_AT_INDEX);
    await queryRunner.dropIndex(TABLE, PARTITION_EXPIRES_AT_INDEX.name!);
    await queryRunner.dropColumn(TABLE, 'partition');
  }
}
