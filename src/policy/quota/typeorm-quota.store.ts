import type { DataSource } from 'typeorm';
import { bigintNumberTransformer } from '../../sessions/typeorm/column.transformers';
import { validatePartition } from '../../sessions/session-partition';
import { storeCall } from '../../sessions/store-call';
import { assertQuotaBytes } from './quota-arguments';
import { QUOTA_ENTRIES_TABLE as T } from './quota-entry.entity';
import { QuotaUsage, UploadQuotaStore } from './upload-quota.store';

/** Options of `TypeOrmQuotaStore`. */
export interface TypeOrmQuotaStoreOptions {
  /** Each call that takes longer fails with `StoreUnavailableError` (503). Default 5000 ms. */
  timeoutMs?: number;
  /**
   * Partition of the session store this quota store follows (`TypeOrmSessionStore`'s `partition`): its keys are
   * stored as `<partition>` + U+001F + `<key>` in `quota_key`, so two apps' owners never share a count. Same rules
   * as the store's option; omitted = keys stored as they are (the unpartitioned space). `usage()` reports the
   * caller's key. The namespace takes `partition.length + 1` of the column's 255 characters.
   */
  partition?: string;
}

/** Between a partition and a quota key: a control character no owner id or path-derived key is expected to hold. */
const PARTITION_SEPARATOR = '\u001f';

/** Runs one SQL statement written with `$n` placeholders; resolves to its rows. */
type Query = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

// Statements use `$n` placeholders and portable SQL (ON CONFLICT, TRUE/FALSE, CAST): SQLite ≥ 3.24 and PostgreSQL.
const READ_ENTRY = `SELECT quota_key, bytes, committed FROM ${T} WHERE upload_id = $1`;
/**
 * Insert or grow the reservation only while the key's other entries plus the new size fit the limit. One statement:
 * on SQLite a write statement holds the database's write lock from before its subquery reads until it commits, so
 * it is atomic across processes on the same file; PostgreSQL additionally holds the key's advisory lock.
 * The update never shrinks a reservation and never touches a committed entry.
 */
const RESERVE = `INSERT INTO ${T} (upload_id, quota_key, path, bytes, committed, created_at)
  SELECT CAST($1 AS VARCHAR), CAST($2 AS VARCHAR), NULL, CAST($3 AS BIGINT), FALSE, CAST($5 AS BIGINT)
  WHERE (SELECT COALESCE(SUM(bytes), 0) FROM ${T} WHERE quota_key = $2 AND upload_id <> $1) + CAST($3 AS BIGINT)
    <= CAST($4 AS BIGINT)
  ON CONFLICT (upload_id) DO UPDATE SET quota_key = excluded.quota_key, bytes = excluded.bytes
  WHERE NOT ${T}.committed AND (${T}.bytes < excluded.bytes OR ${T}.quota_key <> excluded.quota_key)`;
const DROP_REPLACED = `DELETE FROM ${T} WHERE quota_key = $1 AND path = $2 AND committed AND upload_id <> $3`;
const COMMIT = `INSERT INTO ${T} (upload_id, quota_key, path, bytes, committed, created_at)
  VALUES ($1, $2, $3, $4, TRUE, $5)
  ON CONFLICT (upload_id) DO UPDATE
  SET quota_key = excluded.quota_key, path = excluded.path, bytes = excluded.bytes, committed = TRUE`;
const RELEASE = `DELETE FROM ${T} WHERE upload_id = $1 AND NOT committed`;
const FORGET_BLOB = `DELETE FROM ${T} WHERE quota_key = $1 AND path = $2 AND committed`;
const USAGE = `SELECT committed, CAST(SUM(bytes) AS BIGINT) AS total FROM ${T} WHERE quota_key = $1 GROUP BY committed`;
/** Two-key form: its key space never overlaps the single-bigint keys of `PostgresAdvisoryCleanupLock`. */
const PG_KEY_LOCK = `SELECT pg_advisory_xact_lock(hashtext('valiblob:quota'), hashtext($1))`;

/** In-process queues per SQLite DataSource (its one connection interleaves statements of concurrent calls). */
const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Quota store on the TypeORM session store's database (SQLite or PostgreSQL), table `valiblob_quota_entries`
 * (`QuotaEntryEntity`, created by `VALIBLOB_MIGRATIONS`); what `TypeOrmSessionStore` offers.
 *
 * - `reserve` is one conditional upsert (`INSERT … SELECT … WHERE sum + bytes <= limit ON CONFLICT …`), atomic per
 *   key: on PostgreSQL inside a transaction holding `pg_advisory_xact_lock` on the key (READ COMMITTED alone would
 *   let two inserts each miss the other), on SQLite through the database's single writer.
 * - `commit` drops the committed entry it replaces and upserts its own: under the same advisory lock on PostgreSQL;
 *   on SQLite the two statements are queued per DataSource, so only two processes committing the same path of one
 *   SQLite file at the same instant could both stay counted (until that blob's `forgetBlob`).
 * - Every call runs under `timeoutMs`; driver and connection errors become `StoreUnavailableError`.
 *
 * The store does not own the DataSource.
 * @publicApi
 */
export class TypeOrmQuotaStore extends UploadQuotaStore {
  private readonly timeoutMs: number;
  private readonly postgres: boolean;
  /** Prepended to every quota key: `''` when unpartitioned. */
  private readonly namespace: string;

  constructor(
    private readonly dataSource: DataSource,
    options: TypeOrmQuotaStoreOptions = {},
  ) {
    super();
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.postgres = dataSource.options.type === 'postgres';
    const partition = validatePartition('TypeOrmQuotaStore partition', options.partition);
    this.namespace = partition === '' ? '' : `${partition}${PARTITION_SEPARATOR}`;
  }

  async reserve(key: string, uploadId: string, bytes: number, limit: number): Promise<boolean> {
    assertQuotaBytes('bytes', bytes);
    assertQuotaBytes('limit', limit);
    key = this.namespace + key;
    return this.call('reserve', () =>
      this.keyed(key, async (query) => {
        // Reserved already (a retry, or a later call with a size it covers) or committed: nothing to check.
        if (satisfied(await query(READ_ENTRY, [uploadId]), key, bytes)) return true;
        await query(RESERVE, [uploadId, key, bytes, limit, Date.now()]);
        // Read back rather than trust driver-specific affected counts; also right when a concurrent call won.
        return satisfied(await query(READ_ENTRY, [uploadId]), key, bytes);
      }),
    );
  }

  async commit(key: string, uploadId: string, path: string, bytes: number): Promise<void> {
    assertQuotaBytes('bytes', bytes);
    key = this.namespace + key;
    await this.call('commit', () =>
      this.keyed(key, async (query) => {
        await query(DROP_REPLACED, [key, path, uploadId]);
        await query(COMMIT, [uploadId, key, path, bytes, Date.now()]);
      }),
    );
  }

  async release(uploadId: string): Promise<void> {
    await this.call('release', () => this.query(RELEASE, [uploadId]));
  }

  async forgetBlob(key: string, path: string): Promise<void> {
    await this.call('forgetBlob', () => this.query(FORGET_BLOB, [this.namespace + key, path]));
  }

  async usage(key: string): Promise<QuotaUsage> {
    return this.call('usage', async () => {
      const usage: QuotaUsage = { key, usedBytes: 0, reservedBytes: 0 };
      for (const row of await this.query(USAGE, [this.namespace + key])) {
        // PostgreSQL answers booleans and int8 as boolean / string, SQLite as 0|1 / number.
        const total = bigintNumberTransformer.from(row.total) as number;
        if (row.committed) usage.usedBytes = total;
        else usage.reservedBytes = total;
      }
      return usage;
    });
  }

  /** One statement outside any transaction. */
  private readonly query: Query = (sql, params) =>
    this.postgres ? this.dataSource.query(sql, params) : this.dataSource.query(...toSqlite(sql, params));

  /** Work on one key's entries that must not interleave with other work on the key; see the class comment. */
  private keyed<R>(key: string, work: (query: Query) => Promise<R>): Promise<R> {
    if (this.postgres) {
      return this.dataSource.transaction(async (manager) => {
        await manager.query(PG_KEY_LOCK, [key]);
        return work((sql, params) => manager.query(sql, params));
      });
    }
    const previous = sqliteQueues.get(this.dataSource) ?? Promise.resolve();
    const next = previous.then(() => work(this.query));
    sqliteQueues.set(
      this.dataSource,
      next.catch(() => undefined),
    );
    return next;
  }

  private call<R>(what: string, call: () => Promise<R>): Promise<R> {
    return storeCall(`quota store ${what}`, this.timeoutMs, call);
  }
}

/** Whether the upload's entry already is what `reserve` asks for: committed, or reserved under `key` for ≥ bytes. */
function satisfied(rows: Array<Record<string, unknown>>, key: string, bytes: number): boolean {
  const row = rows[0];
  if (!row) return false;
  if (row.committed) return true;
  return row.quota_key === key && (bigintNumberTransformer.from(row.bytes) as number) >= bytes;
}

/** `$n` placeholders → SQLite's `?` with the parameters repeated in order (`$n` would be a named parameter there). */
function toSqlite(sql: string, params: unknown[]): [string, unknown[]] {
  const ordered: unknown[] = [];
  const text = sql.replace(/\$(\d+)/g, (_match, n: string) => {
    ordered.push(params[Number(n) - 1]);
    return '?';
  });
  return [text, ordered];
}
