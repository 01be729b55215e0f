import type { InjectionToken, OptionalFactoryDependency, Type } from '@nestjs/common';
import type { SqlUploadLockerOptions } from '../locking/sql/sql-upload-locker.options';
import type { ResumableSessionStore } from '../sessions/resumable-session-store';
import type { StorageProvider } from '../storage/storage-provider';

/**
 * Built-in local disk provider config (`type` may be omitted: local is the default kind).
 *
 * @publicApi
 */
export interface LocalProviderConfig {
  type?: 'local';
  /** Directory holding the blobs. */
  root: string;
  /**
   * fsync chunk data before the offset advances.
   * @default true
   */
  fsync?: boolean;
}

/**
 * Built-in in-memory provider config.
 *
 * @publicApi
 */
export interface MemoryProviderConfig {
  type: 'memory';
}

/**
 * A provider entry: a built-in config or a ready instance (S3, Azure or your own `StorageProvider`).
 *
 * @publicApi
 */
export type StorageProviderConfig = LocalProviderConfig | MemoryProviderConfig | StorageProvider;

/**
 * DI-style recipe for a custom session store, locker or cleanup lock. With `forRoot` it becomes a provider of
 * the module; with `forRootAsync` the module's own factory builds it once the options are known. Either way its
 * dependencies resolve like those of the module's providers: from the module's `imports` and global modules.
 *
 * @publicApi
 */
export type ClassOrFactoryConfig<T> =
  | { useClass: Type<T> }
  | { useExisting: InjectionToken }
  | {
      // Typed as Nest's own FactoryProvider.useFactory: a typed factory such as `(ds: DataSource) => store` is not
      // assignable to `(...args: unknown[]) => T`, and this recipe is handed to Nest as a FactoryProvider.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as in Nest: unknown[] rejects typed factories
      useFactory: (...args: any[]) => T | Promise<T>;
      inject?: Array<InjectionToken | OptionalFactoryDependency>;
    };

/**
 * Durable sessions in the app's TypeORM DataSource (`TypeOrmModule.forRoot` in the app). With `forRoot` the
 * entities are registered with `TypeOrmModule.forFeature`, so `autoLoadEntities` picks them up; with
 * `forRootAsync` list `VALIBLOB_ENTITIES` in the DataSource's entities (bootstrap says so when they are missing).
 * The per-upload lock and the cleanup lock then follow the database (see `lock`).
 *
 * @publicApi
 */
export interface TypeOrmSessionStoreConfig {
  type: 'typeorm';
  /** Name of the DataSource (`TypeOrmModule.forRoot({ name })`); default the unnamed one. */
  dataSourceName?: string;
  /** Options of the default SQL upload lock (lease `ttlMs`, polling). */
  lock?: SqlUploadLockerOptions;
  /**
   * Partition key: apps sharing one database each see only their own sessions, cleanup lock and quota counts
   * (see `TypeOrmSessionStoreOptions.partition`). Omitted = the unpartitioned space.
   */
  partition?: string;
}

/**
 * Where sessions live: `'memory'` (default, single process), a store instance, or a DI recipe. The durable
 * stores come from their subpaths (`@vali-blob/nestjs/typeorm`, `@vali-blob/nestjs/redis`) as recipes.
 *
 * @publicApi
 */
export type SessionStoreConfig =
  | 'memory'
  | { type: 'memory' }
  | TypeOrmSessionStoreConfig
  | ResumableSessionStore
  | ClassOrFactoryConfig<ResumableSessionStore>;
