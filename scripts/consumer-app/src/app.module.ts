// The module as README.md and docs/typeorm.md ("Wiring in a NestJS app") and docs/operations.md ("Health checks")
// write it: local disk storage, TypeORM sessions on PostgreSQL, tus + REST + blob routes, Terminus health, and the
// upload policy of docs/policy.md.
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ValiBlobModule } from '@vali-blob/nestjs';
import { ValiBlobHealthModule } from '@vali-blob/nestjs/health';
import { VALIBLOB_MIGRATIONS } from '@vali-blob/nestjs/typeorm';
import { HealthController } from './health.controller';
import { uploadPolicy } from './upload-review.policy';

@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: process.env.DATABASE_URL,
      autoLoadEntities: true,
      migrations: VALIBLOB_MIGRATIONS,
      // The schema comes from `npx typeorm migration:run -d dist/data-source.js`, run before the app starts.
      migrationsRun: false,
    }),
    ValiBlobModule.forRoot({
      providers: { local: { root: process.env.STORAGE_DIR ?? './data/blobs' } },
      defaultProvider: 'local',
      sessionStore: { type: 'typeorm' },
      http: { tus: { path: 'files' }, rest: { path: 'uploads' }, blobs: { path: 'blobs' } },
      // docs/policy.md: validation, sniffing, quotas and a hook class of the app's own.
      policy: uploadPolicy,
    }),
    ValiBlobHealthModule,
  ],
  controllers: [HealthController],
})
export class AppModule {}
