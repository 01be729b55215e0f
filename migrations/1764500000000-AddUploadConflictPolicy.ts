import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * Adds `valiblob_upload_sessions.conflict`: the conflict policy (`fail` | `overwrite` | `rename`) applied
 * atomically at complete. Nullable on purpose: rows of uploads started before this migration keep NULL, which
 * the store reads as `overwrite` — the rule they were created under (overwrite was checked only at start), so an
 * upload in flight across the upgrade completes as its client expected. New rows always carry a value.
 * Mirrors `UploadSessionEntity.conflict` exactly (the migrations test asserts an empty schema diff).
 */
export class AddUploadConflictPolicy1764500000000 implements MigrationInterface {
  /** Explicit: bundlers mangle class names, and TypeORM records this string in its migrations table. */
  name = 'AddUploadConflictPolicy1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'valiblob_upload_sessions',
      new TableColumn({ name: 'conflict', type: 'varchar', length: '16', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('valiblob_upload_sessions', 'conflict');
  }
}
