import { DynamicModule, Logger, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ValiBlobModule } from '../vali-blob.module';
import type { AuthorizeContext, ValiBlobModuleOptions } from '../vali-blob.options';
import { adminHttpOption } from './admin.wiring';
import { expectedBearer, givenBearer, sameBearer } from './bearer-token';
import { databaseWiring } from './database.wiring';
import { DemoController } from './demo.controller';
import { redisWiring } from './redis.wiring';
import { ValiBlobHealthModule } from '../health/vali-blob-health.module';
import { HealthController } from './health.controller';
import { loggingImports } from './logging.wiring';
import { metricsWiring } from './metrics.wiring';
import { describePolicy, policyFromConfig, policySummary, SERVER_POLICY_SUMMARY } from './policy.wiring';
import { ServerConfig } from './server.config';

/** Root module of the runnable server, built from the environment. */
@Module({})
export class AppModule {
  static forRoot(config: ServerConfig): DynamicModule {
    // REDIS_URL wins for sessions and locks; otherwise DATABASE_URL (SQLite by default).
    const wiring = redisWiring(config) ?? databaseWiring(config);
    new Logger('ValiBlob').log(`Sessions: ${wiring.description}`);
    new Logger('ValiBlob').log(`Upload policy: ${describePolicy(config)}`);
    // METRICS=on: GET /metrics (Prometheus text) through the OpenTelemetry SDK.
    const metrics = metricsWiring(config);
    const options: ValiBlobModuleOptions = {
      providers: { local: { root: config.storageDir } },
      maxUploadSize: config.maxUploadSize,
      wholeFileChecksum: config.wholeFileChecksum,
      digestThreads: config.digestThreads,
      authorize: config.ownerTokens
        ? ownerTokenCheck(config.ownerTokens)
        : config.authToken
          ? bearerTokenCheck(config.authToken)
          : undefined,
      // AUTH_TOKENS: every owner gets its own path space (owners/<owner>/), the routes never cross it.
      ownerScope: config.ownerTokens !== null,
      sessionStore: wiring.sessionStore,
      lock: { locker: wiring.locker, requestRelease: config.lockRequestRelease },
      cleanup: { lock: wiring.cleanupLock },
      // ALLOWED_TYPES, BLOCKED_EXTENSIONS, SNIFF, QUOTA_BYTES, CLAMD…; undefined when none is set.
      policy: policyFromConfig(config),
    };
    return {
      module: AppModule,
      imports: [
        ...wiring.imports,
        // LOG_FORMAT=json: nestjs-pino (JSON lines on stdout).
        ...loggingImports(config.logFormat),
        // The cleanup cron registers in the app's SchedulerRegistry (the library never calls forRoot itself).
        ScheduleModule.forRoot(),
        ValiBlobModule.forRoot({
          ...options,
          http: {
            tus: { path: 'files' },
            rest: { path: 'uploads' },
            blobs: { path: 'blobs' },
            // ADMIN=on: /admin/uploads behind ADMIN_TOKEN (default AUTH_TOKEN).
            ...adminHttpOption(config.admin, config.ownerTokens),
          },
        }),
        // ValiBlobHealthIndicator + Terminus' HealthCheckService, as an app gets them.
        ValiBlobHealthModule,
      ],
      controllers: [HealthController, DemoController, ...metrics.controllers],
      // What the demo page shows as allowed (GET /demo/policy).
      providers: [{ provide: SERVER_POLICY_SUMMARY, useValue: policySummary(config) }, ...metrics.providers],
    };
  }
}

/** With AUTH_TOKEN set, every upload and blob route requires `Authorization: Bearer <token>`. */
function bearerTokenCheck(token: string) {
  const expected = expectedBearer(token);
  return ({ request }: AuthorizeContext): boolean => sameBearer(givenBearer(request), expected);
}

/**
 * With AUTH_TOKENS set, `Authorization: Bearer <token>` names the owner; unknown or missing tokens are refused.
 * Every token is compared (constant time each) so the answer time does not reveal which one matched.
 */
function ownerTokenCheck(pairs: Array<{ owner: string; token: string }>) {
  const expected = pairs.map(({ owner, token }) => ({ owner, value: expectedBearer(token) }));
  return ({ request }: AuthorizeContext): { ownerId: string } | false => {
    const given = givenBearer(request);
    let owner: string | null = null;
    for (const candidate of expected) {
      if (sameBearer(given, candidate.value)) owner = candidate.owner;
    }
    return owner === null ? false : { ownerId: owner };
  };
}
