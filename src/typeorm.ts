// @vali-blob/nestjs/typeorm — durable sessions and cross-instance upload locks on TypeORM 0.3.20+ or 1.x
// (SQLite, PostgreSQL). Separate from the root entry so apps without TypeORM never load it.
export { TypeOrmSessionStore } from './sessions/typeorm/typeorm-session.store';
export type { TypeOrmSessionStoreOptions } from './sessions/typeorm/typeorm-session.store';
export { SessionAlreadyExistsError } from './sessions/typeorm/store-errors';
export { UploadSessionEntity, UPLOAD_SESSIONS_TABLE } from './sessions/typeorm/upload-session.entity';
export { bigintNumberTransformer, jsonTextTransformer } from './sessions/typeorm/column.transformers';
export {
  dataSourceOptionsFromUrl,
  DEFAULT_DATABASE_URL,
  VALIBLOB_MIGRATIONS_TABLE,
} from './sessions/typeorm/database-url';
export type { DatabaseUrlOptions } from './sessions/typeorm/database-url';
export { chooseSqliteDriver, installedTypeOrm, SqliteDriverError } from './sessions/typeorm/sqlite-driver';
export type {
  ChooseSqliteDriverOptions,
  InstalledTypeOrm,
  SqliteDriverErrorCode,
  SqliteDriverPackage,
} from './sessions/typeorm/sqlite-driver';
export { typeOrmStoreImports, typeOrmStoreProvider } from './sessions/typeorm/typeorm-store.wiring';
export type { TypeOrmSessionStoreConfig } from './vali-blob.options';
export { SqlUploadLocker } from './locking/sql/sql-upload.locker';
export type { SqlUploadLockerOptions } from './locking/sql/sql-upload.locker';
export { UploadLockEntity, UPLOAD_LOCKS_TABLE } from './locking/sql/upload-lock.entity';
export { TypeOrmQuotaStore } from './policy/quota/typeorm-quota.store';
export type { TypeOrmQuotaStoreOptions } from './policy/quota/typeorm-quota.store';
export { QuotaEntryEntity, QUOTA_ENTRIES_TABLE } from './policy/quota/quota-entry.entity';
export {
  VALIBLOB_MIGRATIONS,
  VALIBLOB_ENTITIES,
  CreateValiBlobTables1763600000000,
  AddUploadConflictPolicy1764500000000,
  ReplaceConcatWithParts1764900000000,
  CreateQuotaEntries1765100000000,
  AddSessionPartition1765200000000,
} from '../migrations';
export { PostgresAdvisoryCleanupLock } from './cleanup/locks/postgres-advisory-cleanup.lock';
export type { PostgresAdvisoryCleanupLockOptions } from './cleanup/locks/postgres-advisory-cleanup.lock';
export { SqlCleanupLock } from './cleanup/locks/sql-cleanup.lock';
export type { SqlCleanupLockOptions } from './cleanup/locks/sql-cleanup.lock';
