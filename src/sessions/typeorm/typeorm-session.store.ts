import { Injectable } from '@nestjs/common';
import { DataSource, ObjectLiteral, Repository, UpdateQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { PostgresAdvisoryCleanupLock } from '../../cleanup/locks/postgres-advisory-cleanup.lock';
import { SqlCleanupLock } from '../../cleanup/locks/sql-cleanup.lock';
import { SqlUploadLocker, SqlUploadLockerOptions } from '../../locking/sql/sql-upload.locker';
import type { StoreLocks } from '../../locking/store-locks';
import { TypeOrmQuotaStore } from '../../policy/quota/typeorm-quota.store';
import { ResumableSessionStore } from '../resumable-session-store';
import { decodeCursor, encodeCursor, findLimit } from '../session-filter';
import {
  ACTIVE_STATUSES,
  SessionFilter,
  SessionPage,
  SessionPatch,
  TERMINAL_STATUSES,
  UploadSession,
} from '../upload-session.model';
import { SessionAlreadyExistsError } from '../../errors/vali-blob.errors';
import { validatePartition } from '../session-partition';
import { storeCall } from '../store-call';
import { runReturning, supportsReturning } from './returning-statement';
import { isUniqueViolation } from './store-errors';
import { applySessionFilter, PARTITION_COLUMN } from './typeorm-session.filter';
import { toEntity, toSession } from './typeorm-session.mapping';
import { UploadSessionEntity } from './upload-session.entity';

// Kept importable from here, where they lived before the mapping had a file of its own.
export { toEntity, toSession } from './typeorm-session.mapping';

/** Options of `TypeOrmSessionStore`. */
export interface TypeOrmSessionStoreOptions {
  /** Each store call that takes longer fails with `StoreUnavailableError` (503). Default 5000 ms. */
  timeoutMs?: number;
  /**
   * Options of the `SqlUploadLocker` that `createLocks()` makes (lease TTL, polling); its `timeoutMs` defaults to
   * the store's.
   */
  lock?: SqlUploadLockerOptions;
  /**
   * Partition key (seed 002): several apps share one database without seeing each other's sessions. Every call
   * is scoped to it — a session of another partition is "unknown" to `get`/`update`/`delete`/`advance`, and
   * `find`/`deleteMany`/`findExpired`/`deleteExpired` see only this partition. At most 64 characters from
   * `A-Z a-z 0-9 . _ -`; omitted = the unpartitioned space (`''`, where rows from before the option live).
   * Upload ids stay globally unique: saving an id another partition holds still throws `SessionAlreadyExistsError`.
   * The cleanup lock and the quota store of `createLocks()` / `createQuotaStore()` follow the partition.
   */
  partition?: string;
}

/** Every column except the key, in the order `update` writes them. */
type SessionFields = Omit<UploadSession, 'uploadId' | 'version'>;

/**
 * Durable session store on TypeORM 0.3 or 1.x (SQLite via `sqlite3` or `better-sqlite3`, PostgreSQL via `pg`); table
 * `valiblob_upload_sessions` (`UploadSessionEntity`, created by `VALIBLOB_MIGRATIONS`).
 *
 * - `advance` is one conditional `UPDATE … WHERE upload_id = ? AND uploaded_bytes = ? AND status IN
 *   ('Pending','InProgress') [AND fence <= ?]`; the writer whose UPDATE affects the row wins. PostgreSQL and
 *   SQLite ≥ 3.35 return the new row in the same statement (`RETURNING`); older SQLite reads it back right after.
 * - `find` matches path prefixes literally (LIKE with `%`/`_`/`\` escaped, plus an exact `substr` check
 *   because SQLite's LIKE ignores ASCII case) and pages by `upload_id` in byte order (`COLLATE "C"` on
 *   PostgreSQL, SQLite's default BINARY), matching the other stores.
 * - Every call runs under `timeoutMs`; driver and connection errors become `StoreUnavailableError`.
 * - Every statement is scoped to the store's `partition` (column `partition`, `''` when the option is omitted).
 *
 * The store does not own the DataSource: initialise and destroy it yourself (or let `TypeOrmModule` do it).
 */
@Injectable()
export class TypeOrmSessionStore extends ResumableSessionStore {
  private readonly timeoutMs: number;
  private readonly repository: Repository<UploadSessionEntity>;
  private readonly postgres: boolean;
  /** `''` = the unpartitioned space. */
  private readonly partition: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: TypeOrmSessionStoreOptions = {},
  ) {
    super();
    this.partition = validatePartition('TypeOrmSessionStore partition', options.partition);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.repository = dataSource.getRepository(UploadSessionEntity);
    this.postgres = dataSource.options.type === 'postgres';
  }

  /**
   * Locks shared through the same database: the `SqlUploadLocker` lease table for uploads, and for cleanup a
   * PostgreSQL advisory lock or, on SQLite, a lease row in that table. Every instance on this database then
   * excludes the others without any lock configuration.
   *
   * With a `partition`, upload locks stay shared (upload ids are globally unique random ids), but the cleanup lock
   * is per partition: each partition's cleanup sweeps only its own sessions, so apps in different partitions must
   * not skip each other's runs. Unpartitioned stores keep the lock names they always had.
   */
  override createLocks(): StoreLocks {
    const uploadLocker = new SqlUploadLocker(this.dataSource, { timeoutMs: this.timeoutMs, ...this.options.lock });
    const suffix = this.partition === '' ? '' : `:${this.partition}`;
    const cleanupLock = this.postgres
      ? new PostgresAdvisoryCleanupLock(this.dataSource, { name: `valiblob:cleanup${suffix}` })
      : new SqlCleanupLock(this.dataSource, { name: `valiblob${suffix}`, timeoutMs: this.timeoutMs });
    const cleanupKind = this.postgres ? 'PostgreSQL advisory cleanup lock' : 'SQL cleanup lease';
    const where = this.partition === '' ? '' : ` (partition ${this.partition})`;
    return {
      scope: 'shared',
      uploadLocker,
      cleanupLock,
      description: `SQL upload lease table + ${cleanupKind}${where}`,
    };
  }

  /**
   * Quota usage in table `valiblob_quota_entries` of the same database, under the store's timeout; with a
   * `partition`, its quota keys are namespaced by it (see `TypeOrmQuotaStoreOptions.partition`).
   */
  override createQuotaStore(): TypeOrmQuotaStore {
    const partition = this.partition === '' ? undefined : this.partition;
    return new TypeOrmQuotaStore(this.dataSource, { timeoutMs: this.timeoutMs, partition });
  }

  async save(session: UploadSession): Promise<void> {
    await this.call('save', async () => {
      try {
        // The JSON columns' types are objects TypeORM's deep-partial typing does not model; the transformer maps them.
        await this.repository.insert(toEntity(session, this.partition) as QueryDeepPartialEntity<UploadSessionEntity>);
      } catch (error) {
        if (isUniqueViolation(error)) throw new SessionAlreadyExistsError(session.uploadId);
        throw error;
      }
    });
  }

  async get(uploadId: string): Promise<UploadSession | null> {
    return this.call('get', async () => {
      const entity = await this.repository.findOneBy({ uploadId, partition: this.partition });
      return entity ? toSession(entity) : null;
    });
  }

  async update(session: UploadSession): Promise<UploadSession | null> {
    return this.call('update', async () => {
      const { uploadId, version: _ignored, ...fields } = session;
      const query = this.updateQuery({ ...(fields as SessionFields) }).where('upload_id = :uploadId', { uploadId });
      return this.runUpdate(this.inPartition(query), uploadId);
    });
  }

  async delete(uploadId: string): Promise<void> {
    await this.call('delete', () => this.repository.delete({ uploadId, partition: this.partition }));
  }

  async advance(uploadId: string, expectedOffset: number, patch: SessionPatch): Promise<UploadSession | null> {
    return this.call('advance', async () => {
      const query = this.updateQuery(patch)
        .where('upload_id = :uploadId', { uploadId })
        .andWhere('uploaded_bytes = :expectedOffset', { expectedOffset })
        .andWhere('status IN (:...activeStatuses)', { activeStatuses: [...ACTIVE_STATUSES] });
      // A paused former lock holder (older fence) must not write after a newer holder advanced.
      if (patch.fence !== undefined) query.andWhere('fence <= :fence', { fence: patch.fence });
      return this.runUpdate(this.inPartition(query), uploadId);
    });
  }

  async find(filter: SessionFilter): Promise<SessionPage> {
    const limit = findLimit(filter);
    const after = decodeCursor(filter.cursor);
    return this.call('find', async () => {
      const query = this.repository.createQueryBuilder('s');
      applySessionFilter(query, this.partition, filter);
      if (after !== undefined) query.andWhere(`upload_id${this.byteOrder} > :after`, { after });
      const entities = await query
        .orderBy(`upload_id${this.byteOrder}`, 'ASC')
        .limit(limit + 1)
        .getMany();
      const items = entities.slice(0, limit).map(toSession);
      const nextCursor = entities.length > limit ? encodeCursor(items[items.length - 1].uploadId) : null;
      return { items, nextCursor };
    });
  }

  async deleteMany(filter: Omit<SessionFilter, 'limit' | 'cursor'>): Promise<number> {
    return this.call('deleteMany', async () => {
      const query = this.dataSource.createQueryBuilder().delete().from(UploadSessionEntity);
      applySessionFilter(query, this.partition, filter);
      const result = await query.execute();
      return result.affected ?? 0;
    });
  }

  async findExpired(now: number, limit: number): Promise<UploadSession[]> {
    return this.call('findExpired', async () => {
      const query = this.repository.createQueryBuilder('s');
      applySessionFilter(query, this.partition, { expiresBefore: now });
      const entities = await query
        .orderBy('expires_at', 'ASC')
        .addOrderBy(`upload_id${this.byteOrder}`, 'ASC')
        .limit(limit)
        .getMany();
      return entities.map(toSession);
    });
  }

  /**
   * One DELETE of this partition's expired tombstones without provider state (index `(partition, expires_at)`).
   * `provider_state` is NULL exactly when the session's `providerState` is `null` (the JSON transformer writes
   * SQL NULL for it, never the text `null`).
   */
  override async deleteExpired(now: number): Promise<number> {
    return this.call('deleteExpired', async () => {
      const query = this.dataSource.createQueryBuilder().delete().from(UploadSessionEntity);
      applySessionFilter(query, this.partition, { status: [...TERMINAL_STATUSES], expiresBefore: now });
      const result = await query.andWhere('provider_state IS NULL').execute();
      return result.affected ?? 0;
    });
  }

  async ping(): Promise<void> {
    await this.call('ping', () => this.dataSource.query('SELECT 1'));
  }

  /** One database call under `timeoutMs`; failures other than our typed errors become `StoreUnavailableError`. */
  private call<T>(what: string, call: () => Promise<T>): Promise<T> {
    return storeCall(`session store ${what}`, this.timeoutMs, call);
  }

  /** Collation suffix that orders upload ids by bytes, as JS string comparison does for ASCII ids. */
  private get byteOrder(): string {
    return this.postgres ? ' COLLATE "C"' : '';
  }

  /** UPDATE that writes the given fields and bumps `version` in the same statement. */
  private updateQuery(fields: SessionPatch | SessionFields): UpdateQueryBuilder<UploadSessionEntity> {
    const values: Record<string, unknown> = { version: () => 'version + 1' };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) values[key] = value;
    return this.dataSource.createQueryBuilder().update(UploadSessionEntity).set(values);
  }

  /** Scope an UPDATE to this store's partition: a session of another partition is never touched. */
  private inPartition(query: UpdateQueryBuilder<UploadSessionEntity>): UpdateQueryBuilder<UploadSessionEntity> {
    return query.andWhere(`${PARTITION_COLUMN} = :partition`, { partition: this.partition });
  }

  /** Execute a conditional UPDATE; the updated session when it matched, `null` otherwise. */
  private async runUpdate(
    query: UpdateQueryBuilder<UploadSessionEntity>,
    uploadId: string,
  ): Promise<UploadSession | null> {
    if (this.postgres) {
      // One statement: the row we changed, exactly as we left it.
      const result = await query.returning('*').execute();
      if (result.affected !== 1) return null;
      return toSession(this.hydrate((result.raw as ObjectLiteral[])[0]));
    }
    let affected: number | undefined;
    if (await supportsReturning(this.dataSource)) {
      // SQLite ≥ 3.35: also one statement (TypeORM's builder offers RETURNING on PostgreSQL only).
      const [sql, parameters] = query.getQueryAndParameters();
      const result = await runReturning(this.dataSource, `${sql} RETURNING *`, parameters);
      if (result.rows !== null) return result.rows.length === 1 ? toSession(this.hydrate(result.rows[0])) : null;
      affected = result.affected;
    } else {
      affected = (await query.execute()).affected;
    }
    if (affected !== 1) return null;
    const entity = await this.repository.findOneBy({ uploadId, partition: this.partition });
    return entity ? toSession(entity) : null;
  }

  /** Raw `RETURNING` row → entity, through the same column transformers TypeORM uses. */
  private hydrate(row: ObjectLiteral): UploadSessionEntity {
    const entity = new UploadSessionEntity();
    for (const column of this.repository.metadata.columns) {
      (entity as unknown as Record<string, unknown>)[column.propertyName] = this.dataSource.driver.prepareHydratedValue(
        row[column.databaseName],
        column,
      );
    }
    return entity;
  }
}
