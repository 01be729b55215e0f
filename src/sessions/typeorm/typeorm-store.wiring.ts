import type { DynamicModule, Provider } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { resolveRecipe } from '../../common/provider-recipe';
import { InvalidValiBlobOptionsError } from '../../errors/vali-blob.errors';
import { UploadLockEntity } from '../../locking/sql/upload-lock.entity';
import { QuotaEntryEntity } from '../../policy/quota/quota-entry.entity';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions, TypeOrmSessionStoreConfig } from '../../vali-blob.options';
import { ResumableSessionStore } from '../resumable-session-store';
import { TypeOrmSessionStore } from './typeorm-session.store';
import { UploadSessionEntity } from './upload-session.entity';

/**
 * How `sessionStore: { type: 'typeorm', dataSourceName? }` is wired. The core loads this file with a lazy
 * `require` only when that option is used, so apps without TypeORM never load it.
 */

/** `TypeOrmModule.forFeature` for the library's entities, so `autoLoadEntities: true` apps pick them up (forRoot). */
export function typeOrmStoreImports(config: TypeOrmSessionStoreConfig): DynamicModule[] {
  return [TypeOrmModule.forFeature([UploadSessionEntity, UploadLockEntity, QuotaEntryEntity], config.dataSourceName)];
}

/** forRoot: a static provider of the store, injected with the (named) DataSource so Nest creates it first. */
export function typeOrmStoreProvider(config: TypeOrmSessionStoreConfig): Provider {
  return {
    provide: ResumableSessionStore,
    useFactory: (dataSource: DataSource, options: ResolvedValiBlobOptions) => createStore(dataSource, config, options),
    inject: [getDataSourceToken(config.dataSourceName), VALIBLOB_OPTIONS],
  };
}

/**
 * forRootAsync: the option is only known once the factory ran, when the DataSource may still be pending; Nest's
 * injector waits for it (see `resolveRecipe`) and the store is built from it.
 */
export function typeOrmStoreFromOptions(
  config: TypeOrmSessionStoreConfig,
  options: ResolvedValiBlobOptions,
  moduleRef: ModuleRef,
): Promise<ResumableSessionStore> {
  return resolveRecipe<ResumableSessionStore>(
    {
      useFactory: (dataSource: DataSource) => createStore(dataSource, config, options),
      inject: [getDataSourceToken(config.dataSourceName)],
    },
    moduleRef,
    ResumableSessionStore.name,
  );
}

function createStore(dataSource: DataSource, config: TypeOrmSessionStoreConfig, options: ResolvedValiBlobOptions) {
  // Under forRootAsync, autoLoadEntities cannot see the entities (they are registered when modules are defined):
  // say how to fix it at bootstrap instead of failing on the first upload.
  const missing = [UploadSessionEntity, UploadLockEntity, QuotaEntryEntity].filter(
    (entity) => !dataSource.hasMetadata(entity),
  );
  if (missing.length > 0) {
    throw new InvalidValiBlobOptionsError([
      `sessionStore { type: 'typeorm' }: the DataSource${config.dataSourceName ? ` "${config.dataSourceName}"` : ''} ` +
        `does not know ${missing.map((entity) => entity.name).join(', ')}; add VALIBLOB_ENTITIES ` +
        "(from '@vali-blob/nestjs/typeorm') to its entities",
    ]);
  }
  // An invalid `partition` throws InvalidValiBlobOptionsError here, at bootstrap.
  return new TypeOrmSessionStore(dataSource, {
    timeoutMs: options.storeTimeoutMs,
    lock: config.lock,
    partition: config.partition,
  });
}
