import { Module } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { ValiBlobAlreadyRegisteredError } from './errors/vali-blob.errors';
import { ValiBlobConfigurableModule } from './vali-blob.module-definition';

/**
 * Blob storage with resumable uploads. Register once, in the root module:
 *
 * ```ts
 * ValiBlobModule.forRoot({ providers: { local: { root: './data/blobs' } } })
 * ValiBlobModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ ... }) })
 * ```
 *
 * Exports `ResumableUploadService`, `StorageProvider` (default), named providers (`@InjectStorage(name)`),
 * `ResumableSessionStore`, `UploadEvents` and `StorageRegistry`; mounts the tus and REST controllers per the
 * static `http` option.
 */
@Module({})
export class ValiBlobModule extends ValiBlobConfigurableModule {
  constructor(modules: ModulesContainer) {
    super();
    // Two registrations would mean two engines, two stores and two cron jobs fighting over one upload.
    const registrations = [...modules.values()].filter((module) => module.metatype === ValiBlobModule).length;
    if (registrations > 1) throw new ValiBlobAlreadyRegisteredError();
  }
}
