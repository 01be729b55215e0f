import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ValiBlobHealthIndicator } from '../health/vali-blob.health-indicator';
import { VALIBLOB_DEFAULTS } from '../options/vali-blob.defaults';

/** Probe budget per check; `/health` answers within about this long even when a backend hangs. */
const PROBE_TIMEOUT_MS =
  Number(process.env.HEALTH_TIMEOUT_MS) > 0 ? Number(process.env.HEALTH_TIMEOUT_MS) : VALIBLOB_DEFAULTS.healthTimeoutMs;

/**
 * `/health` (Terminus): 200 when the storage, the session store (PostgreSQL / SQLite / Redis) and the cleanup
 * backlog (at most 10 000 expired sessions waiting) are fine; 503 with per-check details (no secrets) otherwise.
 * Wired exactly as an app would: `ValiBlobHealthModule` imported, `checkAll()`.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly valiBlob: ValiBlobHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check(this.valiBlob.checkAll({ timeoutMs: PROBE_TIMEOUT_MS }));
  }
}
