import { Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { deferRecipe, isRecipe, recipeToProvider } from './common/provider-recipe';
import { FastifyBodyParserRegistrar } from './http/fastify-body-parser';
import { PlatformErrorBridge } from './http/platform-error.bridge';
import { CleanupLock } from './cleanup/cleanup-lock';
import { ProcessCleanupLock } from './cleanup/locks/process-cleanup.lock';
import { StaleUploadCleanupService } from './cleanup/stale-upload-cleanup.service';
import { MemoryUploadLocker } from './locking/memory/memory-upload.locker';
import { UploadLocker } from './locking/upload-locker';
import { MemorySessionStore } from './sessions/memory/memory-session.store';
import { ResumableSessionStore } from './sessions/resumable-session-store';
import { StorageProvider } from './storage/storage-provider';
import { StorageRegistry } from './storage/storage.registry';
import { ResumableUploadService } from './uploads/resumable-upload.service';
import { UploadEvents } from './uploads/upload.events';
import { VALIBLOB_OPTIONS } from './vali-blob.constants';
import { ResolvedValiBlobOptions, resolveValiBlobOptions, ValiBlobModuleOptions } from './vali-blob.options';
import { InvalidValiBlobOptionsError } from './errors/vali-blob.errors';

/**
 * Providers of the module. `staticOptions` is set for `forRoot`, where a session store recipe can be
 * registered as a real provider (full DI); with `forRootAsync` recipes are resolved once the factory ran.
 */
export function createCoreProviders(optionsToken: string | symbol, staticOptions?: ValiBlobModuleOptions): Provider[] {
  const storeRecipe = staticOptions?.sessionStore;
  return [
    {
      provide: VALIBLOB_OPTIONS,
      useFactory: (raw: ValiBlobModuleOptions) => resolveValiBlobOptions(raw),
      inject: [optionsToken],
    },
    {
      provide: StorageRegistry,
      useFactory: (options: ResolvedValiBlobOptions) => StorageRegistry.fromOptions(options),
      inject: [VALIBLOB_OPTIONS],
    },
    {
      provide: StorageProvider,
      useFactory: (registry: StorageRegistry) => registry.get(),
      inject: [StorageRegistry],
    },
    isRecipe<ResumableSessionStore>(storeRecipe)
      ? recipeToProvider(ResumableSessionStore, storeRecipe)
      : (storeRecipe as { type?: string } | undefined)?.type === 'typeorm'
        ? // Lazy: only apps that ask for the TypeORM store load typeorm.
          require('./sessions/typeorm/typeorm-store.wiring').typeOrmStoreProvider(storeRecipe)
      : {
          provide: ResumableSessionStore,
          useFactory: async (options: ResolvedValiBlobOptions, moduleRef: ModuleRef) => {
            const config = options.sessionStore;
            if (config === 'memory' || (config as { type?: string }).type === 'memory') return new MemorySessionStore();
            if ((config as { type?: string }).type === 'typeorm') {
              // Only forRoot can add the TypeORM feature module and a DataSource-injected provider (static).
              throw new InvalidValiBlobOptionsError([
                "sessionStore { type: 'typeorm' } needs forRoot(); with forRootAsync use inject: [getDataSourceToken()] and useFactory: (ds) => ({ sessionStore: new TypeOrmSessionStore(ds) })",
              ]);
            }
            // forRootAsync: the recipe's dependencies may not exist yet; resolve it once they all do.
            if (isRecipe<ResumableSessionStore>(config)) return deferRecipe(config, moduleRef, ResumableSessionStore);
            return config;
          },
          inject: [VALIBLOB_OPTIONS, ModuleRef],
        },
    // forRoot: a locker recipe becomes a real provider, so its dependencies (e.g. TypeORM's DataSource) are
    // instantiated first; resolving it at run time could see them still uninitialised.
    isRecipe<UploadLocker>(staticOptions?.lock?.locker)
      ? recipeToProvider(UploadLocker, staticOptions?.lock?.locker)
      : {
      provide: UploadLocker,
      useFactory: async (options: ResolvedValiBlobOptions, moduleRef: ModuleRef) => {
        const locker = options.lock.locker;
        if (!locker) return new MemoryUploadLocker();
        if (isRecipe<UploadLocker>(locker)) return deferRecipe(locker, moduleRef, UploadLocker);
        return locker;
      },
      inject: [VALIBLOB_OPTIONS, ModuleRef],
    },
    UploadEvents,
    ResumableUploadService,
    // Fastify only: lets raw upload bodies through to the tus and REST handlers.
    FastifyBodyParserRegistrar,
    // Express only: malformed JSON bodies on the library's routes get the library's error shape.
    PlatformErrorBridge,
    {
      // Only one instance sweeps per run; process-local unless `cleanup.lock` names a shared one.
      provide: CleanupLock,
      useFactory: async (options: ResolvedValiBlobOptions, moduleRef: ModuleRef) => {
        const lock = options.cleanup.lock;
        if (!lock) return new ProcessCleanupLock();
        if (isRecipe<CleanupLock>(lock)) return deferRecipe(lock, moduleRef, CleanupLock);
        return lock;
      },
      inject: [VALIBLOB_OPTIONS, ModuleRef],
    },
    StaleUploadCleanupService,
  ];
}

/** Tokens the module exports to the importing module. */
export const CORE_EXPORTS = [
  VALIBLOB_OPTIONS,
  StorageRegistry,
  StorageProvider,
  ResumableSessionStore,
  UploadLocker,
  UploadEvents,
  ResumableUploadService,
  CleanupLock,
  StaleUploadCleanupService,
];
