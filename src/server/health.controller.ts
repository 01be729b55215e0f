import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { StorageProvider } from '../storage/storage-provider';
import { withTimeout } from '../uploads/resumable-upload.service';

/** `/health`: 200 when storage and the session store answer, 503 with details otherwise. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly storage: StorageProvider,
    private readonly store: ResumableSessionStore,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.probe('storage', () => this.storage.ping()), () => this.probe('sessionStore', () => this.store.ping())]);
  }

  private async probe(key: string, ping: () => Promise<void>) {
    const indicator = this.indicators.check(key);
    try {
      await withTimeout(ping(), 2000, () => new Error('timed out'));
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
