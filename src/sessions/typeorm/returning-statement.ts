import type { DataSource, ObjectLiteral } from 'typeorm';

/** SQLite learnt `RETURNING` in 3.35.0 (2021-03). */
const SQLITE_RETURNING = [3, 35];

const support = new WeakMap<DataSource, Promise<boolean>>();

/**
 * Whether `INSERT/UPDATE … RETURNING` works on this DataSource: PostgreSQL always, SQLite (`sqlite3`,
 * `better-sqlite3`) from 3.35 on — asked once per DataSource (`sqlite_version()`); any other driver: no. A failed
 * probe answers "no" (the callers then use their separate read-back), and is asked again next time.
 */
export function supportsReturning(dataSource: DataSource): Promise<boolean> {
  let known = support.get(dataSource);
  if (!known) {
    known = probe(dataSource);
    support.set(dataSource, known);
    known.catch(() => support.delete(dataSource));
  }
  return known.catch(() => false);
}

/**
 * The DataSource's driver type as a plain string: TypeORM 1.x's types no longer list `sqlite` (the sqlite3
 * driver), and this file must compile against both lines.
 */
function driverType(dataSource: DataSource): string {
  return dataSource.options.type;
}

async function probe(dataSource: DataSource): Promise<boolean> {
  const type = driverType(dataSource);
  if (type === 'postgres') return true;
  if (type !== 'sqlite' && type !== 'better-sqlite3') return false;
  const rows = (await dataSource.query('SELECT sqlite_version() AS version')) as Array<{ version: string }>;
  const [major, minor] = String(rows[0]?.version ?? '0.0')
    .split('.')
    .map(Number);
  return major > SQLITE_RETURNING[0] || (major === SQLITE_RETURNING[0] && minor >= SQLITE_RETURNING[1]);
}

/** What a `RETURNING` statement gave back. */
export interface ReturningResult {
  /** The returned rows; `null` when the driver did not hand them back (then only `affected` is known). */
  rows: ObjectLiteral[] | null;
  /** Rows changed, when the driver reports it. */
  affected: number | undefined;
}

/**
 * Run one `… RETURNING …` statement (only where `supportsReturning`) through a TypeORM query runner, so logging,
 * error wrapping and SQLite busy retries stay TypeORM's. Callers must cope with `rows: null`: the driver may run
 * the statement without handing its rows back (then they read back, as without `RETURNING`).
 */
export async function runReturning(
  dataSource: DataSource,
  sql: string,
  parameters: unknown[],
): Promise<ReturningResult> {
  // TypeORM's sqlite3 runner sends statements that start with INSERT/UPDATE/DELETE through the driver's run(),
  // which drops the returned rows; led by a comment, the statement goes through all(), which returns them.
  const text = driverType(dataSource) === 'sqlite' ? `/* returning */ ${sql}` : sql;
  const runner = dataSource.createQueryRunner();
  try {
    const result = (await runner.query(text, parameters, true)) as { records?: unknown; affected?: number };
    const rows = Array.isArray(result.records) ? (result.records as ObjectLiteral[]) : null;
    return { rows, affected: result.affected ?? undefined };
  } finally {
    await runner.release();
  }
}
