import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ValiBlobHealthIndicator } from '../health/vali-blob.health-indicator';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { StorageRegistry } from '../storage/storage.registry';

/** Probe budget per check; `/health` answers within about this long even when a backend hangs. */
const PROBE_TIMEOUT_MS = Number(process.env.HEALTH_TIMEOUT_MS) > 0 ? Number(process.env.HEALTH_TIMEOUT_MS) : 2000;
/** Expired sessions tolerated before `/health` reports the cleanup as not keeping up. */
const MAX_EXPIRED_BACKLOG = 10_000;

/**
 * `/health` (Terminus): 200 when the storage, the session store (PostgreSQL / SQLite / Redis) and the cleanup
 * backlog are fine; 503 with per-check details (no secrets) otherwise.
 */
@Controller('health')
export class HealthController {
  private readonly valiBlob: ValiBlobHealthIndicator;

  constructor(
    private readonly health: HealthCheckService,
    indicators: HealthIndicatorService,
    registry: StorageRegistry,
    store: ResumableSessionStore,
  ) {
    // Built here rather than registered in AppModule so the controller is self-contained; apps normally list
    // ValiBlobHealthIndicator in their providers and inject it.
    this.valiBlob = new ValiBlobHealthIndicator(indicators, registry, store);
  }

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.valiBlob.checkStorage('storage', { timeoutMs: PROBE_TIMEOUT_MS }),
      () => this.valiBlob.checkSessionStore('sessionStore', { timeoutMs: PROBE_TIMEOUT_MS }),
      () => this.valiBlob.checkCleanupBacklog('cleanup', { maxExpired: MAX_EXPIRED_BACKLOG, timeoutMs: PROBE_TIMEOUT_MS }),
    ]);
  }
}
