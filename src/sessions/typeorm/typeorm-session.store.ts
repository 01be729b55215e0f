import { Injectable } from '@nestjs/common';
import { DataSource, ObjectLiteral, Repository, UpdateQueryBuilder, WhereExpressionBuilder } from 'typeorm';
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
  UploadSession,
  UploadStatus,
} from '../upload-session.model';
import { SessionAlreadyExistsError } from '../../errors/vali-blob.errors';
import { storeCall } from '../store-call';
import { isUniqueViolation } from './store-errors';
import { UploadSessionEntity } from './upload-session.entity';
import type { ConflictPolicy } from '../../uploads/conflict-policy';

/** Options of `TypeOrmSessionStore`. */
export interface TypeOrmSessionStoreOptions {
  /** Each store call that takes longer fails with `StoreUnavailableError` (503). Default 5000 ms. */
  timeoutMs?: number;
  /**
   * Options of the `SqlUploadLocker` that `createLocks()` makes (lease TTL, polling); its `timeoutMs` defaults to
   * the store's.
   */
  lock?: SqlUploadLockerOptions;
}

/** Every column except the key, in the order `update` writes them. */
type SessionFields = Omit<UploadSession, 'uploadId' | 'version'>;

/**
 * Durable session store on TypeORM 0.3 or 1.x (SQLite via `sqlite3` or `better-sqlite3`, PostgreSQL via `pg`); table
 * `valiblob_upload_sessions` (`UploadSessionEntity`, created by `VALIBLOB_MIGRATIONS`).
 *
 * - `advance` is one conditional `UPDATE … WHERE upload_id = ? AND uploaded_bytes = ? AND status IN
 *   ('Pending','InProgress') [AND fence <= ?]`; the writer whose UPDATE affects the row wins. PostgreSQL
 *   returns the new row in the same statement (`RETURNING`); SQLite reads it back right after.
 * - `find` matches path prefixes literally (LIKE with `%`/`_`/`\` escaped, plus an exact `substr` check
 *   because SQLite's LIKE ignores ASCII case) and pages by `upload_id` in byte order (`COLLATE "C"` on
 *   PostgreSQL, SQLite's default BINARY), matching the other stores.
 * - Every call runs under `timeoutMs`; driver and connection errors become `StoreUnavailableError`.
 *
 * The store does not own the DataSource: initialise and destroy it yourself (or let `TypeOrmModule` do it).
 */
@Injectable()
export class TypeOrmSessionStore extends ResumableSessionStore {
  private readonly timeoutMs: number;
  private readonly repository: Repository<UploadSessionEntity>;
  private readonly postgres: boolean;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: TypeOrmSessionStoreOptions = {},
  ) {
    super();
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.repository = dataSource.getRepository(UploadSessionEntity);
    this.postgres = dataSource.options.type === 'postgres';
  }

  /**
   * Locks shared through the same database: the `SqlUploadLocker` lease table for uploads, and for cleanup a
   * PostgreSQL advisory lock or, on SQLite, a lease row in that table. Every instance on this database then
   * excludes the others without any lock configuration.
   */
  override createLocks(): StoreLocks {
    const uploadLocker = new SqlUploadLocker(this.dataSource, { timeoutMs: this.timeoutMs, ...this.options.lock });
    const cleanupLock = this.postgres
      ? new PostgresAdvisoryCleanupLock(this.dataSource)
      : new SqlCleanupLock(this.dataSource, { timeoutMs: this.timeoutMs });
    const cleanupKind = this.postgres ? 'PostgreSQL advisory cleanup lock' : 'SQL cleanup lease';
    return { scope: 'shared', uploadLocker, cleanupLock, description: `SQL upload lease table + ${cleanupKind}` };
  }

  /** Quota usage in table `valiblob_quota_entries` of the same database, under the store's timeout. */
  override createQuotaStore(): TypeOrmQuotaStore {
    return new TypeOrmQuotaStore(this.dataSource, { timeoutMs: this.timeoutMs });
  }

  async save(session: UploadSession): Promise<void> {
    await this.call('save', async () => {
      try {
        // The JSON columns' types are objects TypeORM's deep-partial typing does not model; the transformer maps them.
        await this.repository.insert(toEntity(session) as QueryDeepPartialEntity<UploadSessionEntity>);
      } catch (error) {
        if (isUniqueViolation(error)) throw new SessionAlreadyExistsError(session.uploadId);
        throw error;
      }
    });
  }

  async get(uploadId: string): Promise<UploadSession | null> {
    return this.call('get', async () => {
      const entity = await this.repository.findOneBy({ uploadId });
      return entity ? toSession(entity) : null;
    });
  }

  async update(session: UploadSession): Promise<UploadSession | null> {
    return this.call('update', async () => {
      const { uploadId, version: _ignored, ...fields } = session;
      const query = this.updateQuery({ ...(fields as SessionFields) }).where('upload_id = :uploadId', { uploadId });
      return this.runUpdate(query, uploadId);
    });
  }

  async delete(uploadId: string): Promise<void> {
    await this.call('delete', () => this.repository.delete({ uploadId }));
  }

  async advance(uploadId: string, expectedOffset: number, patch: SessionPatch): Promise<UploadSession | null> {
    return this.call('advance', async () => {
      const query = this.updateQuery(patch)
        .where('upload_id = :uploadId', { uploadId })
        .andWhere('uploaded_bytes = :expectedOffset', { expectedOffset })
        .andWhere('status IN (:...activeStatuses)', { activeStatuses: [...ACTIVE_STATUSES] });
      // A paused former lock holder (older fence) must not write after a newer holder advanced.
      if (patch.fence !== undefined) query.andWhere('fence <= :fence', { fence: patch.fence });
      return this.runUpdate(query, uploadId);
    });
  }

  async find(filter: SessionFilter): Promise<SessionPage> {
    const limit = findLimit(filter);
    const after = decodeCursor(filter.cursor);
    return this.call('find', async () => {
      const query = this.repository.createQueryBuilder('s');
      this.applyFilter(query, filter);
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
      this.applyFilter(query, filter);
      const result = await query.execute();
      return result.affected ?? 0;
    });
  }

  async findExpired(now: number, limit: number): Promise<UploadSession[]> {
    return this.call('findExpired', async () => {
      const entities = await this.repository
        .createQueryBuilder('s')
        .where('expires_at <= :now', { now })
        .orderBy('expires_at', 'ASC')
        .addOrderBy(`upload_id${this.byteOrder}`, 'ASC')
        .limit(limit)
        .getMany();
      return entities.map(toSession);
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
    const result = await query.execute();
    if (result.affected !== 1) return null;
    const entity = await this.repository.findOneBy({ uploadId });
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

  /** Turn a `SessionFilter` into WHERE clauses (AND). Column names are unqualified so SELECT and DELETE share it. */
  private applyFilter(query: WhereExpressionBuilder, filter: Omit<SessionFilter, 'limit' | 'cursor'>): void {
    query.where('1 = 1');
    if (filter.pathPrefix !== undefined && filter.pathPrefix !== '') {
      const prefix = filter.pathPrefix;
      const pathPattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query
        .andWhere("path LIKE :pathPattern ESCAPE '\\'", { pathPattern })
        // SQL counts characters (code points), not UTF-16 units.
        .andWhere('substr(path, 1, :prefixLength) = :pathPrefix', {
          prefixLength: [...prefix].length,
          pathPrefix: prefix,
        });
    }
    if (filter.status !== undefined) {
      const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
      if (statuses.length === 0) query.andWhere('1 = 0');
      else query.andWhere('status IN (:...statuses)', { statuses });
    }
    if (filter.ownerId !== undefined) query.andWhere('owner_id = :ownerId', { ownerId: filter.ownerId });
    if (filter.expiresBefore !== undefined) {
      query.andWhere('expires_at <= :expiresBefore', { expiresBefore: filter.expiresBefore });
    }
  }
}

/** Session → entity (a fresh object; the caller's session is never shared with TypeORM). */
export function toEntity(session: UploadSession): UploadSessionEntity {
  const entity = new UploadSessionEntity();
  Object.assign(entity, {
    ...session,
    metadata: { ...session.metadata },
    providerState: session.providerState === null ? null : structuredClone(session.providerState),
    parts: session.parts === null ? null : [...session.parts],
  });
  return entity;
}

/** Entity → plain session object with exactly the model's fields. */
export function toSession(entity: UploadSessionEntity): UploadSession {
  return {
    uploadId: entity.uploadId,
    path: entity.path,
    provider: entity.provider,
    totalSize: entity.totalSize,
    uploadedBytes: entity.uploadedBytes,
    contentType: entity.contentType,
    metadata: entity.metadata ?? {},
    ownerId: entity.ownerId,
    status: entity.status as UploadStatus,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
    expiresAt: entity.expiresAt,
    version: entity.version,
    providerState: entity.providerState,
    checksum: entity.checksum,
    // Some drivers hand booleans back as 0/1.
    partial: Boolean(entity.partial),
    parts: entity.parts ?? null,
    fence: entity.fence,
    // NULL = a row from before the column: those were created when overwrite was checked at start only.
    conflict: (entity.conflict ?? 'overwrite') as ConflictPolicy,
  };
}
