import { Controller, Get, Req, Res } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerMetrics } from './metrics.exporter';

/**
 * `GET /metrics` (only with `METRICS=on`): the OpenTelemetry metrics in the Prometheus text format, on the app's own
 * port. Like `/health` it takes no token, also when `AUTH_TOKEN(S)` is set: a scraper carries none, and the numbers
 * hold no ids, paths or owners. Keep the port off the public internet or filter `/metrics` at the proxy.
 */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ServerMetrics) {}

  @Get()
  scrape(@Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    this.metrics.serve(req, res);
  }
}
