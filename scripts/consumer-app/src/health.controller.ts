import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ValiBlobHealthIndicator } from '@vali-blob/nestjs/health';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly valiBlob: ValiBlobHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check(this.valiBlob.checkAll());
  }
}
