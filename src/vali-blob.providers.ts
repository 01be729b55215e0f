import { Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { isRecipe, recipeToProvider, resolveRecipe } from './common/provider-recipe';
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
      : {
          provide: ResumableSessionStore,
          useFactory: async (options: ResolvedValiBlobOptions, moduleRef: ModuleRef) => {
            const config = options.sessionStore;
            if (config === 'memory' || (config as { type?: string }).type === 'memory') return new MemorySessionStore();
            if (isRecipe<ResumableSessionStore>(config)) return resolveRecipe(config, moduleRef);
            return config;
          },
          inject: [VALIBLOB_OPTIONS, ModuleRef],
        },
    {
      provide: UploadLocker,
      useFactory: async (options: ResolvedValiBlobOptions, moduleRef: ModuleRef) => {
        const locker = options.lock.locker;
        if (!locker) return new MemoryUploadLocker();
        if (isRecipe<UploadLocker>(locker)) return resolveRecipe(locker, moduleRef);
        return locker;
      },
      inject: [VALIBLOB_OPTIONS, ModuleRef],
    },
    UploadEvents,
    ResumableUploadService,
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
];
