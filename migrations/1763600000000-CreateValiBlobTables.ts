import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * Creates `valiblob_upload_sessions` (TypeOrmSessionStore) and `valiblob_upload_locks` (SqlUploadLocker) with
 * their indexes. Written with TypeORM's schema API rather than raw SQL so the same class produces the right DDL
 * on SQLite and PostgreSQL; the column definitions mirror `UploadSessionEntity` / `UploadLockEntity` exactly
 * (a test asserts the schema diff against the entities is empty on both drivers).
 */
export class CreateValiBlobTables1763600000000 implements MigrationInterface {
  /** Explicit: bundlers mangle class names, and TypeORM records this string in its migrations table. */
  name = 'CreateValiBlobTables1763600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'valiblob_upload_sessions',
        columns: [
          {
            name: 'upload_id',
            type: 'varchar',
            length: '128',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_valiblob_upload_sessions',
          },
          { name: 'path', type: 'varchar', length: '1024' },
          { name: 'provider', type: 'varchar', length: '64' },
          { name: 'total_size', type: 'bigint', isNullable: true },
          { name: 'uploaded_bytes', type: 'bigint' },
          { name: 'content_type', type: 'varchar', length: '255', isNullable: true },
          { name: 'metadata', type: 'text' },
          { name: 'owner_id', type: 'varchar', length: '255', isNullable: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'version', type: 'integer' },
          { name: 'provider_state', type: 'text', isNullable: true },
          { name: 'checksum', type: 'varchar', length: '128', isNullable: true },
          { name: 'concat', type: 'text', isNullable: true },
          { name: 'fence', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'IDX_valiblob_upload_sessions_expires_at', columnNames: ['expires_at'] }),
          new TableIndex({
            name: 'IDX_valiblob_upload_sessions_status_expires_at',
            columnNames: ['status', 'expires_at'],
          }),
          new TableIndex({ name: 'IDX_valiblob_upload_sessions_path', columnNames: ['path'] }),
          new TableIndex({ name: 'IDX_valiblob_upload_sessions_owner_id', columnNames: ['owner_id'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'valiblob_upload_locks',
        columns: [
          {
            name: 'upload_id',
            type: 'varchar',
            length: '128',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_valiblob_upload_locks',
          },
          { name: 'owner', type: 'varchar', length: '64', isNullable: true },
          { name: 'fence', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'release_requested_at', type: 'bigint', isNullable: true },
        ],
        indices: [new TableIndex({ name: 'IDX_valiblob_upload_locks_expires_at', columnNames: ['expires_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // dropTable also drops the table's indexes on both drivers.
    await queryRunner.dropTable('valiblob_upload_locks');
    await queryRunner.dropTable('valiblob_upload_sessions');
  }
}
