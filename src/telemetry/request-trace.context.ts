import { context, propagation, trace } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Run one HTTP request's work (tus or REST) in the trace context the client sent. When a span is already active
 * (the app's HTTP instrumentation made one) that span is the parent, as it should be; otherwise the W3C
 * `traceparent` / `tracestate` headers are extracted with the globally configured propagator, so the engine's
 * spans join the caller's trace. Without an SDK (no propagator) this only calls `work`.
 */
export function withRequestTraceContext<T>(headers: IncomingHttpHeaders, work: () => Promise<T>): Promise<T> {
  const active = context.active();
  if (trace.getSpan(active)) return work();
  return context.with(propagation.extract(active, headers), work);
}
