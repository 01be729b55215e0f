// The error lives with the other typed errors now (every store throws it; the package root exports it); re-exported
// here so `@vali-blob/nestjs/typeorm` and imports of this file keep working.
export { SessionAlreadyExistsError } from '../../errors/vali-blob.errors';

/**
 * True for a primary-key / unique violation on PostgreSQL (23505) or SQLite: `sqlite3` reports the primary code
 * `SQLITE_CONSTRAINT` (the kind only in the message), `better-sqlite3` the extended `SQLITE_CONSTRAINT_PRIMARYKEY` /
 * `SQLITE_CONSTRAINT_UNIQUE`.
 */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string; errno?: number; message?: string } };
  const code = e?.driverError?.code ?? e?.code;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') return true;
  return code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/i.test(e?.driverError?.message ?? '');
}
