import { ConfigurableModuleBuilder, Provider } from '@nestjs/common';
import { createHttpControllers } from './http/http-controllers.factory';
import { UnknownProviderError } from './errors/vali-blob.errors';
import { StorageRegistry } from './storage/storage.registry';
import { CORE_EXPORTS, createCoreProviders } from './vali-blob.providers';
import { STORAGE_TOKEN_PREFIX, VALIBLOB_HTTP_OPTIONS } from './vali-blob.constants';
import { resolveHttpOptions, ValiBlobHttpOptions, ValiBlobModuleOptions } from './vali-blob.options';

/** Static options of the module, given next to the options (or the async factory). */
export interface ValiBlobModuleExtras {
  /** Register the module globally (default false). */
  isGlobal?: boolean;
  /** Where the tus, REST and blob controllers are mounted; fixed when the module is defined. */
  http?: ValiBlobHttpOptions;
}

/**
 * Names passed to `@InjectStorage(name)` / `getStorageToken(name)`: every such token gets a provider, because
 * with `forRootAsync` the provider names are unknown until the factory runs.
 */
const requestedStorageNames = new Set<string>();

/** Token of a named storage provider, paired with `@InjectStorage(name)`. */
export function getStorageToken(name: string): string {
  requestedStorageNames.add(name);
  return `${STORAGE_TOKEN_PREFIX}${name}`;
}

/** The builder's options token, known only after `build()`; read when forRoot/forRootAsync run. */
let optionsToken: string | symbol = '';

const definition = new ConfigurableModuleBuilder<ValiBlobModuleOptions>({ moduleName: 'ValiBlob' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createValiBlobOptions')
  .setExtras<ValiBlobModuleExtras>({ isGlobal: false, http: {} }, (definition, extras) => {
    const names = new Set(requestedStorageNames);
    // forRoot: the options are known now, so every provider name gets its token.
    const staticOptions = (definition.providers ?? [])
      .map((provider) => provider as { provide?: unknown; useValue?: ValiBlobModuleOptions })
      .find((provider) => provider.provide === optionsToken && 'useValue' in provider)?.useValue;
    for (const name of Object.keys(staticOptions?.providers ?? {})) names.add(name);
    const storageTokens = [...names].map((name) => `${STORAGE_TOKEN_PREFIX}${name}`);
    const storageProviders: Provider[] = [...names].map((name) => ({
      provide: `${STORAGE_TOKEN_PREFIX}${name}`,
      // Names requested by @InjectStorage anywhere in the process reach every registration, so a name this
      // app did not configure must not fail its bootstrap: it resolves to a stand-in that throws a clear
      // UnknownProviderError on first use instead.
      useFactory: (registry: StorageRegistry) => (registry.has(name) ? registry.get(name) : unknownProvider(name)),
      inject: [StorageRegistry],
    }));
    return {
      ...definition,
      global: extras.isGlobal,
      // sessionStore { type: 'typeorm' }: TypeOrmModule.forFeature for the entities (lazy require: no typeorm otherwise).
      imports: [
        ...(definition.imports ?? []),
        ...((staticOptions?.sessionStore as { type?: string } | undefined)?.type === 'typeorm'
          ? require('./sessions/typeorm/typeorm-store.wiring').typeOrmStoreImports(staticOptions!.sessionStore)
          : []),
      ],
      controllers: [...(definition.controllers ?? []), ...createHttpControllers(extras.http)],
      providers: [
        ...(definition.providers ?? []),
        ...createCoreProviders(optionsToken, staticOptions),
        ...storageProviders,
        { provide: VALIBLOB_HTTP_OPTIONS, useValue: resolveHttpOptions(extras.http) },
      ],
      exports: [...(definition.exports ?? []), ...CORE_EXPORTS, ...storageTokens],
    };
  })
  .build();
optionsToken = definition.MODULE_OPTIONS_TOKEN;

/** Base class of `ValiBlobModule` with `forRoot` / `forRootAsync`. */
export const ValiBlobConfigurableModule = definition.ConfigurableModuleClass;
/** Token of the raw options as given to forRoot / returned by the async factory. */
export const VALIBLOB_MODULE_OPTIONS = definition.MODULE_OPTIONS_TOKEN;
/** Type of `forRoot`'s argument (options plus static extras). */
export type ValiBlobForRootOptions = typeof definition.OPTIONS_TYPE;
/** Type of `forRootAsync`'s argument. */
export type ValiBlobForRootAsyncOptions = typeof definition.ASYNC_OPTIONS_TYPE;

function unknownProvider(name: string): unknown {
  return new Proxy(
    {},
    {
      get(_target, property) {
        // Let Nest's lifecycle probing (then/onModuleInit/…) see an ordinary empty object.
        if (typeof property === 'symbol' || property === 'then' || /^on[A-Z]|^before[A-Z]/.test(property)) return undefined;
        throw new UnknownProviderError(name);
      },
    },
  );
}
