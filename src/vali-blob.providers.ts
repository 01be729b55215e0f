import { InjectionToken, Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { isRecipe, recipeToProvider, resolveRecipe } from './common/provider-recipe';
import { FastifyBodyParserRegistrar } from './http/fastify-body-parser';
import { IdleConnectionReaper } from './http/idle-connection.reaper';
import { RequestTimeoutAdjuster } from './http/request-timeout.adjuster';
import { PlatformErrorBridge } from './http/platform-error.bridge';
import { TUS_HANDLERS } from './http/tus/tus-handlers';
import { UploadAdminService } from './admin/upload-admin.service';
import { CleanupLock } from './cleanup/cleanup-lock';
import { StaleUploadCleanupService } from './cleanup/stale-upload-cleanup.service';
import { createLockProviders } from './locking/lock-selection';
import { UploadLocker } from './locking/upload-locker';
import { UploadQuotaService } from './policy/quota/upload-quota.service';
import { UploadPolicy } from './policy/upload-policy';
import { createUploadPolicy } from './policy/upload-policy.factory';
import { MemorySessionStore } from './sessions/memory/memory-session.store';
import { ResumableSessionStore } from './sessions/resumable-session-store';
import { StorageProvider } from './storage/storage-provider';
import { StorageRegistry } from './storage/storage.registry';
import { ResumableUploadService } from './uploads/resumable-upload.service';
import { UploadConcatenator } from './uploads/upload-concatenation';
import { UploadRecovery } from './uploads/upload-recovery';
import { UploadEvents } from './uploads/upload.events';
import { VALIBLOB_HTTP_OPTIONS, VALIBLOB_OPTIONS } from './vali-blob.constants';
import { getStorageToken } from './vali-blob.decorators';
import {
  ResolvedHttpOptions,
  ResolvedValiBlobOptions,
  resolveValiBlobOptions,
  SessionStoreConfig,
  ValiBlobHttpOptions,
  ValiBlobModuleOptions,
} from './vali-blob.options';

/** What the core providers are built from, all known when the module is defined. */
export interface CoreProvidersInput {
  /** Token of the raw options (the value given to `forRoot`, or what the async factory returns). */
  rawOptionsToken: InjectionToken;
  /** The static `http` option as given (validated with the rest at bootstrap) and as mounted. */
  http: { given: ValiBlobHttpOptions | undefined; mounted: ResolvedHttpOptions };
  /** `forRoot`'s options: recipes in them become real providers. Undefined with `forRootAsync`. */
  staticOptions?: ValiBlobModuleOptions;
}

/**
 * Providers of the module. With `forRoot` a session store or locker recipe is registered as a provider of its
 * own (full DI); with `forRootAsync` ordinary factory providers inject the resolved options and build it.
 */
export function createCoreProviders({ rawOptionsToken, http, staticOptions }: CoreProvidersInput): Provider[] {
  return [
    {
      provide: VALIBLOB_OPTIONS,
      // The one place options are defaulted and validated, for both paths (the static http option included).
      useFactory: (raw: ValiBlobModuleOptions) => resolveValiBlobOptions(raw, http.given),
      inject: [rawOptionsToken],
    },
    { provide: VALIBLOB_HTTP_OPTIONS, useValue: http.mounted },
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
    sessionStoreProvider(staticOptions?.sessionStore),
    // The per-upload lock and the cleanup lock: what the app named, else the ones that follow the store.
    ...createLockProviders(staticOptions?.lock?.locker),
    UploadEvents,
    // The upload policy (hooks, validation, sniffing, scanning, quotas), built once its recipes can be resolved.
    {
      provide: UploadPolicy,
      useFactory: (
        options: ResolvedValiBlobOptions,
        moduleRef: ModuleRef,
        store: ResumableSessionStore,
        registry: StorageRegistry,
      ) => createUploadPolicy(options, moduleRef, store, registry),
      inject: [VALIBLOB_OPTIONS, ModuleRef, ResumableSessionStore, StorageRegistry],
    },
    { provide: UploadQuotaService, useFactory: (policy: UploadPolicy) => policy.quota, inject: [UploadPolicy] },
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
    // Find and purge uploads by filter (operators; the REST routes of `http.admin` sit on it).
    UploadAdminService,
  ];
}

/**
 * A provider per named storage provider, so `@InjectStorage(name)` works. A name the options do not configure
 * fails bootstrap with `UnknownProviderError` (`registry.get` throws).
 */
export function createStorageTokenProviders(names: readonly string[]): Provider[] {
  return names.map((name) => ({
    provide: getStorageToken(name),
    useFactory: (registry: StorageRegistry) => registry.get(name),
    inject: [StorageRegistry],
  }));
}

/** Tokens the module exports to the importing module (plus the named storage tokens). */
export const CORE_EXPORTS = [
  VALIBLOB_OPTIONS,
  StorageRegistry,
  StorageProvider,
  ResumableSessionStore,
  UploadLocker,
  UploadEvents,
  ResumableUploadService,
  UploadQuotaService,
  CleanupLock,
  StaleUploadCleanupService,
  UploadAdminService,
];

/** `forRoot`: a recipe or the TypeORM shorthand becomes a real provider; anything else is built from the options. */
function sessionStoreProvider(staticConfig: SessionStoreConfig | undefined): Provider {
  if (isRecipe<ResumableSessionStore>(staticConfig)) return recipeToProvider(ResumableSessionStore, staticConfig);
  if ((staticConfig as { type?: string } | undefined)?.type === 'typeorm') {
    // Lazy: only apps that ask for the TypeORM store load typeorm.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer (typeorm) loaded lazily
    return require('./sessions/typeorm/typeorm-store.wiring').typeOrmStoreProvider(staticConfig);
  }
  return {
    provide: ResumableSessionStore,
    useFactory: (options: ResolvedValiBlobOptions, moduleRef: ModuleRef) => buildSessionStore(options, moduleRef),
    inject: [VALIBLOB_OPTIONS, ModuleRef],
  };
}

/** The store the resolved options name (with `forRootAsync`, recipes and the TypeORM shorthand too). */
async function buildSessionStore(
  options: ResolvedValiBlobOptions,
  moduleRef: ModuleRef,
): Promise<ResumableSessionStore> {
  const config = options.sessionStore;
  const type = (config as { type?: string }).type;
  if (config === 'memory' || type === 'memory') return new MemorySessionStore();
  if (type === 'typeorm') {
    // Lazy, as above. Nest waits for the (possibly async) DataSource before building the store.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer (typeorm) loaded lazily
    return require('./sessions/typeorm/typeorm-store.wiring').typeOrmStoreFromOptions(config, options, moduleRef);
  }
  if (isRecipe<ResumableSessionStore>(config)) return resolveRecipe(config, moduleRef, ResumableSessionStore.name);
  return config as ResumableSessionStore;
}
