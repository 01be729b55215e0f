import { context, metrics, propagation, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

/** A pull reader the test collects from whenever it wants (cumulative, like Prometheus). */
class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** What one collection holds, with lookups by instrument name and attributes. */
export class CollectedMetrics {
  constructor(private readonly all: MetricData[]) {}

  /** The instrument's data, or throws when it never recorded anything. */
  metric(name: string): MetricData {
    const found = this.all.find((m) => m.descriptor.name === name);
    if (!found) throw new Error(`No metric ${name} (have: ${this.all.map((m) => m.descriptor.name).join(', ')})`);
    return found;
  }

  /** Whether the instrument recorded anything. */
  has(name: string): boolean {
    return this.all.some((m) => m.descriptor.name === name);
  }

  /** Sum of a counter / up-down counter / gauge over the points whose attributes include `match`. */
  sum(name: string, match: Attributes = {}): number {
    if (!this.has(name)) return 0;
    const data = this.metric(name);
    if (data.dataPointType === DataPointType.HISTOGRAM) throw new Error(`${name} is a histogram: use count()`);
    return this.points(data, match).reduce((total, p) => total + (p.value as number), 0);
  }

  /** Number of recordings of a histogram over the points whose attributes include `match`. */
  count(name: string, match: Attributes = {}): number {
    if (!this.has(name)) return 0;
    const data = this.metric(name);
    if (data.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
    return this.points(data, match).reduce((total, p) => total + (p.value as { count: number }).count, 0);
  }

  /** The attribute sets a metric was recorded with. */
  attributeSets(name: string): Attributes[] {
    return this.has(name) ? this.metric(name).dataPoints.map((p) => p.attributes) : [];
  }

  private points(data: MetricData, match: Attributes) {
    const dataPoints = data.dataPoints as Array<{ attributes: Attributes; value: unknown }>;
    return dataPoints.filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
  }
}

/** A real OpenTelemetry SDK installed globally for one spec file. */
export interface TestSdk {
  spans: InMemorySpanExporter;
  collect(): Promise<CollectedMetrics>;
  /** Finished spans named `name`. */
  spansNamed(name: string): ReadableSpan[];
  /** Shut the providers down and reset every global the install set. */
  uninstall(): Promise<void>;
}

/**
 * Install a MeterProvider (collecting reader), a TracerProvider (in-memory exporter, simple processor), the
 * AsyncLocalStorage context manager and the W3C propagator as the process globals — as an app's SDK setup does.
 */
export function installTestSdk(): TestSdk {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(contextManager)) throw new Error('a context manager is already installed');
  if (!metrics.setGlobalMeterProvider(meterProvider)) throw new Error('a meter provider is already installed');
  if (!trace.setGlobalTracerProvider(tracerProvider)) throw new Error('a tracer provider is already installed');
  if (!propagation.setGlobalPropagator(new W3CTraceContextPropagator())) throw new Error('a propagator is installed');
  return {
    spans,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return new CollectedMetrics(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics));
    },
    spansNamed: (name) => spans.getFinishedSpans().filter((span) => span.name === name),
    async uninstall() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
      contextManager.disable();
      metrics.disable();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
