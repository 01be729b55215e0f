import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

const TABLE = 'valiblob_upload_sessions';
/** Prefix of the tus wire string the old `concat` column stored for a final upload (`final;<id> <id>`). */
const FINAL_PREFIX = 'final;';

/**
 * Replaces the tus wire string in `valiblob_upload_sessions.concat` (`partial` | `final;<ids>`) with neutral
 * fields, so the session model speaks upload rules and any protocol can map them: `is_partial` (a part meant to be
 * concatenated later) and `parts` (JSON array of the upload ids a concatenated upload was built from, in order).
 * Existing rows are converted in TypeScript rather than SQL so the same code runs on SQLite and PostgreSQL, and
 * `down` rebuilds the old column from the new ones. Mirrors `UploadSessionEntity` (the migrations test asserts an
 * empty schema diff).
 */
export class ReplaceConcatWithParts1764900000000 implements MigrationInterface {
  /** Explicit: bundlers mangle class names, and TypeORM records this string in its migrations table. */
  name = 'ReplaceConcatWithParts1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns(TABLE, [
      // The literal each driver normalizes `default: false` to (SQLite stores booleans as 0/1), so the schema
      // matches the entity exactly.
      new TableColumn({ name: 'is_partial', type: 'boolean', default: isPostgres(queryRunner) ? 'false' : '0' }),
      new TableColumn({ name: 'parts', type: 'text', isNullable: true }),
    ]);
    const rows: Array<{ upload_id: string; concat: string }> = await queryRunner.query(
      `SELECT upload_id, concat FROM ${TABLE} WHERE concat IS NOT NULL`,
    );
    for (const row of rows) {
      if (row.concat === 'partial') {
        await setColumn(queryRunner, 'is_partial', true, row.upload_id);
      } else if (row.concat.startsWith(FINAL_PREFIX)) {
        const parts = row.concat
          .slice(FINAL_PREFIX.length)
          .split(' ')
          .filter((id) => id !== '');
        await setColumn(queryRunner, 'parts', JSON.stringify(parts), row.upload_id);
      }
    }
    await queryRunner.dropColumn(TABLE, 'concat');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(TABLE, new TableColumn({ name: 'concat', type: 'text', isNullable: true }));
    const rows: Array<{ upload_id: string; is_partial: boolean | number; parts: string | null }> =
      // A bare boolean column is a valid condition on both SQLite (0/1) and PostgreSQL.
      await queryRunner.query(
        `SELECT upload_id, is_partial, parts FROM ${TABLE} WHERE is_partial OR parts IS NOT NULL`,
      );
    for (const row of rows) {
      const concat = row.parts ? `${FINAL_PREFIX}${(JSON.parse(row.parts) as string[]).join(' ')}` : 'partial';
      await setColumn(queryRunner, 'concat', concat, row.upload_id);
    }
    await queryRunner.dropColumns(TABLE, ['is_partial', 'parts']);
  }
}

function isPostgres(queryRunner: QueryRunner): boolean {
  return queryRunner.connection.driver.options.type === 'postgres';
}

/**
 * One raw UPDATE: the migration must not go through `UploadSessionEntity`, whose columns are those of the
 * latest schema, not of the one this migration runs against.
 */
async function setColumn(queryRunner: QueryRunner, column: string, value: unknown, uploadId: string): Promise<void> {
  const [a, b] = isPostgres(queryRunner) ? ['$1', '$2'] : ['?', '?'];
  const stored = typeof value === 'boolean' && !isPostgres(queryRunner) ? Number(value) : value;
  await queryRunner.query(`UPDATE ${TABLE} SET ${column} = ${a} WHERE upload_id = ${b}`, [stored, uploadId]);
}
