import type { DynamicModule, Provider } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { UploadLockEntity } from '../../locking/sql/upload-lock.entity';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions, TypeOrmSessionStoreConfig } from '../../vali-blob.options';
import { ResumableSessionStore } from '../resumable-session-store';
import { TypeOrmSessionStore } from './typeorm-session.store';
import { UploadSessionEntity } from './upload-session.entity';

/**
 * How `ValiBlobModule.forRoot({ sessionStore: { type: 'typeorm', dataSourceName? } })` is wired. The core loads
 * this file with a lazy `require` only when that option is used, so apps without TypeORM never load it.
 */

/** `TypeOrmModule.forFeature` for the library's entities, so `autoLoadEntities: true` apps pick them up. */
export function typeOrmStoreImports(config: TypeOrmSessionStoreConfig): DynamicModule[] {
  return [TypeOrmModule.forFeature([UploadSessionEntity, UploadLockEntity], config.dataSourceName)];
}

/** Static provider of the store, injected with the (named) DataSource so Nest creates the DataSource first. */
export function typeOrmStoreProvider(config: TypeOrmSessionStoreConfig): Provider {
  return {
    provide: ResumableSessionStore,
    useFactory: (dataSource: DataSource, options: ResolvedValiBlobOptions) =>
      new TypeOrmSessionStore(dataSource, { timeoutMs: options.storeTimeoutMs }),
    inject: [getDataSourceToken(config.dataSourceName), VALIBLOB_OPTIONS],
  };
}
