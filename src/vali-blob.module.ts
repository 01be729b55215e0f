import { DynamicModule, Module, NestModule, Optional } from '@nestjs/common';
import { HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { ValiBlobAlreadyRegisteredError } from './errors/vali-blob.errors';
import { routeBlobMounts } from './http/blobs/blob-route';
import { PlatformErrorBridge } from './http/platform-error.bridge';
import {
  composeValiBlobModule,
  forRootAsyncComposition,
  forRootComposition,
  ValiBlobConfigurableModule,
  ValiBlobForRootAsyncOptions,
  ValiBlobForRootOptions,
} from './vali-blob.module-definition';

/**
 * Blob storage with resumable uploads. Register once, in the root module:
 *
 * ```ts
 * ValiBlobModule.forRoot({ providers: { local: { root: './data/blobs' } } })
 * ValiBlobModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ ... }), storageNames: ['archive'] })
 * ```
 *
 * Exports `ResumableUploadService`, `StorageProvider` (default), named providers (`@InjectStorage(name)`),
 * `ResumableSessionStore`, `UploadEvents` and `StorageRegistry`; mounts the tus and REST controllers per the
 * static `http` option. What shapes the module (controllers, named tokens, TypeORM entities) is static, as in
 * `@nestjs/typeorm`: `forRoot` reads it from its options, `forRootAsync` from the fields next to its factory.
 *
 * @publicApi
 */
@Module({})
export class ValiBlobModule extends ValiBlobConfigurableModule implements NestModule {
  constructor(
    private readonly modules: ModulesContainer,
    private readonly platformErrors: PlatformErrorBridge,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    super();
    // Two registrations would mean two engines, two stores and two cron jobs fighting over one upload.
    if (this.registrations().length > 1) throw new ValiBlobAlreadyRegisteredError();
  }

  /** Register with options known now. */
  static override forRoot(options: ValiBlobForRootOptions): DynamicModule {
    return composeValiBlobModule(super.forRoot(options), forRootComposition(options));
  }

  /** Register with options from a factory (`useFactory` + `inject`, `useClass` or `useExisting`). */
  static override forRootAsync(options: ValiBlobForRootAsyncOptions): DynamicModule {
    return composeValiBlobModule(super.forRootAsync(options), forRootAsyncComposition(options));
  }

  /**
   * Nest runs this once the HTTP adapter is known and just before it registers routes: the moment to give the
   * blob route the wildcard syntax of the platform (Express and Fastify have none in common) and to let the
   * library's Fastify routes answer refused bodies in the library's shape.
   */
  configure(): void {
    this.platformErrors.beforeRoutes();
    const controllers = this.registrations().flatMap((module) =>
      [...module.controllers.values()].map((wrapper) => wrapper.metatype),
    );
    routeBlobMounts(controllers, this.adapterHost?.httpAdapter?.getType?.());
  }

  /** The ValiBlobModule registrations of this application (one, unless it was imported twice). */
  private registrations() {
    return [...this.modules.values()].filter((module) => module.metatype === ValiBlobModule);
  }
}
