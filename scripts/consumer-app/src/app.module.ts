// The module as README.md and docs/typeorm.md ("Wiring in a NestJS app") and docs/operations.md ("Health checks")
// write it: local disk storage, TypeORM sessions on PostgreSQL, tus + REST + blob routes, Terminus health, and the
// upload policy of docs/policy.md, a TypeORM partition (docs/typeorm.md) and the admin API (docs/admin.md).
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ValiBlobModule } from '@vali-blob/nestjs';
import { ValiBlobHealthModule } from '@vali-blob/nestjs/health';
import { VALIBLOB_MIGRATIONS } from '@vali-blob/nestjs/typeorm';
import { HealthController } from './health.controller';
import { OpsController } from './ops.controller';
import { uploadPolicy } from './upload-review.policy';

const OPS_TOKEN = process.env.OPS_TOKEN ?? '';

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
      // Several apps may share this database; this one sees only its own sessions.
      sessionStore: { type: 'typeorm', partition: 'consumer' },
      http: {
        tus: { path: 'files' },
        rest: { path: 'uploads' },
        blobs: { path: 'blobs' },
        admin: {
          path: 'admin/uploads',
          authorize: (request) =>
            OPS_TOKEN !== '' &&
            (request as { headers: Record<string, string | undefined> }).headers.authorization ===
              `Bearer ${OPS_TOKEN}`,
        },
      },
      // docs/policy.md: validation, sniffing, quotas and a hook class of the app's own.
      policy: uploadPolicy,
    }),
    ValiBlobHealthModule,
  ],
  controllers: [HealthController, OpsController],
})
export class AppModule {}
