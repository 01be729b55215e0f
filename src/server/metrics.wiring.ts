import { Logger } from '@nestjs/common';
import type { OnApplicationShutdown, Provider, Type } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetricsController } from './metrics.controller';
import { ServerMetrics } from './metrics.exporter';
import type { ServerConfig } from './server.config';

/**
 * The OpenTelemetry SDK of the runnable server (`METRICS=on`): a MeterProvider whose only reader is the Prometheus
 * exporter in pull mode (`preventServerStart`: no second port), installed as the global meter provider so the
 * library's instruments report into it. Only the server does this; the library itself never registers a provider.
 */
class PrometheusServerMetrics extends ServerMetrics implements OnApplicationShutdown {
  private constructor(
    private readonly exporter: { getMetricsRequestHandler(req: IncomingMessage, res: ServerResponse): void },
    private readonly provider: { shutdown(): Promise<void> },
  ) {
    super();
  }

  /** Load the SDK (only now: a server without METRICS never loads it) and install it globally. */
  static async install(): Promise<PrometheusServerMetrics> {
    const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
    const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter] });
    if (!metrics.setGlobalMeterProvider(provider)) {
      new Logger('ValiBlob').warn('METRICS=on: a global meter provider was already installed; /metrics stays empty');
    }
    return new PrometheusServerMetrics(exporter, provider);
  }

  serve(req: IncomingMessage, res: ServerResponse): void {
    this.exporter.getMetricsRequestHandler(req, res);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.provider.shutdown().catch(() => undefined);
    metrics.disable();
  }
}

/** What `METRICS=on` adds to the server's module: `GET /metrics` and the SDK behind it; nothing when off. */
export function metricsWiring(config: ServerConfig): { controllers: Type[]; providers: Provider[] } {
  if (!config.metrics) return { controllers: [], providers: [] };
  return {
    controllers: [MetricsController],
    providers: [{ provide: ServerMetrics, useFactory: () => PrometheusServerMetrics.install() }],
  };
}
