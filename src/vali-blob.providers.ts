import { Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { deferRecipe, isRecipe, recipeToProvider } from './common/provider-recipe';
import { FastifyBodyParserRegistrar } from './http/fastify-body-parser';
import { IdleConnectionReaper } from './http/idle-connection.reaper';
import { RequestTimeoutAdjuster } from './http/request-timeout.adjuster';
import { PlatformErrorBridge } from './http/platform-error.bridge';
import { TUS_HANDLERS } from './http/tus/tus-handlers';
import { CleanupLock } from './cleanup/cleanup-lock';
import { StaleUploadCleanupService } from './cleanup/stale-upload-cleanup.service';
import { createLockProviders } from './locking/lock-selection';
import { UploadLocker } from './locking/upload-locker';
import { MemorySessionStore } from './sessions/memory/memory-session.store';
import { ResumableSessionStore } from './sessions/resumable-session-store';
import { StorageProvider } from './storage/storage-provider';
import { StorageRegistry } from './storage/storage.registry';
import { ResumableUploadService } from './uploads/resumable-upload.service';
import { UploadConcatenator } from './uploads/upload-concatenation';
import { UploadRecovery } from './uploads/upload-recovery';
import { UploadEvents } from './uploads/upload.events';
import { VALIBLOB_OPTIONS } from './vali-blob.constants';
import { ResolvedValiBlobOptions, resolveValiBlobOptions, ValiBlobModuleOptions } from './vali-blob.options';

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
              // forRootAsync: the DataSource may not be ready yet; the store is built once every provider exists.
              // eslint-disable-next-line @typescript-eslint/no-require-imports
              return require('./sessions/typeorm/typeorm-store.wiring').deferredTypeOrmStore(config, options, moduleRef);
            }
            // forRootAsync: the recipe's dependencies may not exist yet; resolve it once they all do.
            if (isRecipe<ResumableSessionStore>(config)) return deferRecipe(config, moduleRef, ResumableSessionStore);
            return config;
          },
          inject: [VALIBLOB_OPTIONS, ModuleRef],
        },
    // The per-upload lock and the cleanup lock: what the app named, else the ones that follow the store.
    ...createLockProviders(staticOptions?.lock?.locker),
    UploadEvents,
    ResumableUploadService,
    UploadConcatenator,
    UploadRecovery,
    // One handler per tus method, dispatched to by the TusController.
    ...TUS_HANDLERS,
    // Fastify only: lets raw upload bodies through to the tus and REST handlers.
    FastifyBodyParserRegistrar,
    // Bodies the platform's parsers refuse on the library's routes get the library's error shape (both platforms).
    PlatformErrorBridge,
    // Shutdown never waits out an upload client's keep-alive timeout.
    IdleConnectionReaper,
    // Node's 300 s requestTimeout would cut long upload chunks in apps that kept Node's default.
    RequestTimeoutAdjuster,
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
