import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ValiBlobHealthIndicator } from './vali-blob.health-indicator';

/**
 * Health checks without ceremony, the way Terminus' own indicators work: import this module next to
 * `ValiBlobModule.forRoot()` and inject `ValiBlobHealthIndicator` (and Terminus' `HealthCheckService`, re-exported
 * here) into a controller.
 *
 * ```ts
 * @Module({ imports: [ValiBlobModule.forRoot({}), ValiBlobHealthModule], controllers: [HealthController] })
 * ```
 *
 * Works whether or not `ValiBlobModule` is global: the indicator finds ValiBlob's registry and store in the
 * application. Apps that configure Terminus (`TerminusModule.forRoot({ logger, errorLogStyle })`) import that as
 * well; its options apply.
 */
@Module({
  imports: [TerminusModule],
  providers: [ValiBlobHealthIndicator],
  exports: [ValiBlobHealthIndicator, TerminusModule],
})
export class ValiBlobHealthModule {}
