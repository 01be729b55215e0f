// The module's options live in src/options/ (interfaces, the defaults table, validation); this file re-exports
// them so existing imports of './vali-blob.options' keep working.
export type {
  AuthorizeContext,
  AuthorizeHook,
  AuthorizeResult,
  UploadAction,
} from './options/authorize-hook.interface';
export type {
  ClassOrFactoryConfig,
  LocalProviderConfig,
  MemoryProviderConfig,
  SessionStoreConfig,
  StorageProviderConfig,
  TypeOrmSessionStoreConfig,
} from './options/pluggable-config.interface';
export type { ResolvedValiBlobOptions } from './options/resolved-vali-blob-options.interface';
export type { ResolvedHttpOptions, ValiBlobHttpOptions } from './options/vali-blob-http-options.interface';
export type {
  CleanupOptions,
  LockOptions,
  OwnerScopeOptions,
  TusNamingInput,
  TusOptions,
  ValiBlobModuleOptions,
} from './options/vali-blob-options.interface';
export { defaultOwnerPrefix, VALIBLOB_DEFAULTS } from './options/vali-blob.defaults';
export { readHttpOptions } from './options/vali-blob-http-options.validator';
export type { HttpOptionsReading } from './options/vali-blob-http-options.validator';
export { resolveValiBlobOptions } from './options/vali-blob-options.validator';
