import type { DataSource } from 'typeorm';
import { runReturning, supportsReturning } from '../../sessions/typeorm/returning-statement';
import { UploadLockEntity } from './upload-lock.entity';

/** What `takeLock` needs from `SqlUploadLocker`. */
export interface LockTaking {
  dataSource: DataSource;
  /** Lease length: the row's `expires_at` is set this far ahead. */
  ttlMs: number;
  /** Run one statement under the locker's timeout. */
  query<T>(what: string, call: () => Promise<T>): Promise<T>;
}

/**
 * One acquire attempt of `SqlUploadLocker` (`fence` = max(previous fence + 1, now in µs), computed in the
 * statement itself): the new fence when the lock is ours now, `null` when someone else holds it.
 */
export async function takeLock(ctx: LockTaking, uploadId: string, token: string): Promise<number | null> {
  const now = Date.now();
  if (await supportsReturning(ctx.dataSource)) return takeReturning(ctx, uploadId, token, now);
  return takeInSteps(ctx, uploadId, token, now);
}

/**
 * Acquire in one statement (PostgreSQL, SQLite ≥ 3.35): insert the first lock row, or take over a free or lapsed
 * one, and return the new fence — no row back means a live holder. When the driver does not hand the rows back,
 * the row is read, as `takeInSteps` does.
 */
async function takeReturning(ctx: LockTaking, uploadId: string, token: string, now: number): Promise<number | null> {
  const p = (i: number) => ctx.dataSource.driver.createParameter(`p${i}`, i);
  const sql =
    `INSERT INTO ${tableOf(ctx.dataSource)} AS l (upload_id, owner, fence, expires_at, release_requested_at) ` +
    `VALUES (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, NULL) ON CONFLICT (upload_id) DO UPDATE SET ` +
    'owner = excluded.owner, expires_at = excluded.expires_at, release_requested_at = NULL, ' +
    'fence = CASE WHEN l.fence + 1 > excluded.fence THEN l.fence + 1 ELSE excluded.fence END ' +
    `WHERE l.owner IS NULL OR l.expires_at <= ${p(4)} RETURNING fence, owner`;
  const result = await ctx.query('acquire', () =>
    runReturning(ctx.dataSource, sql, [uploadId, token, now * 1000, now + ctx.ttlMs, now]),
  );
  if (result.rows === null) return result.affected === 0 ? null : readFence(ctx, uploadId, token);
  const row = result.rows[0] as { fence: string | number; owner: string } | undefined;
  return row?.owner === token ? Number(row.fence) : null;
}

/**
 * Acquire without `RETURNING`: a conditional UPDATE (`owner IS NULL OR expires_at <= now`), for a first lock an
 * INSERT … ON CONFLICT DO NOTHING, then a read of whose token is in the row.
 */
async function takeInSteps(ctx: LockTaking, uploadId: string, token: string, now: number): Promise<number | null> {
  const nowMicros = now * 1000;
  const values = { owner: token, expiresAt: now + ctx.ttlMs, releaseRequestedAt: null };
  const taken = await ctx.query('acquire', () =>
    ctx.dataSource
      .createQueryBuilder()
      .update(UploadLockEntity)
      .set({ ...values, fence: () => 'CASE WHEN fence + 1 > :nowMicros THEN fence + 1 ELSE :nowMicros END' })
      .where('upload_id = :uploadId', { uploadId })
      .andWhere('(owner IS NULL OR expires_at <= :now)', { now })
      .setParameter('nowMicros', nowMicros)
      .execute(),
  );
  if (taken.affected !== 1) {
    // No row yet (first lock of this upload), or a live holder. Insert-if-absent settles the first case.
    await ctx.query('acquire', () =>
      ctx.dataSource
        .createQueryBuilder()
        .insert()
        .into(UploadLockEntity)
        .values({ uploadId, ...values, fence: nowMicros })
        .orIgnore()
        .execute(),
    );
  }
  return readFence(ctx, uploadId, token);
}

/** The row's fence when it carries `token`, else `null`. */
async function readFence(ctx: LockTaking, uploadId: string, token: string): Promise<number | null> {
  const row = await ctx.query('acquire', () =>
    ctx.dataSource
      .getRepository(UploadLockEntity)
      .findOne({ where: { uploadId }, select: { owner: true, fence: true } }),
  );
  return row?.owner === token ? row.fence : null;
}

/** The lock table's escaped name (with its schema, if the entity metadata names one). */
function tableOf(dataSource: DataSource): string {
  const { driver } = dataSource;
  return dataSource
    .getMetadata(UploadLockEntity)
    .tablePath.split('.')
    .map((part) => driver.escape(part))
    .join('.');
}
