import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { ValiBlobError } from '../errors/vali-blob-error';
import { VALIBLOB_ATTRIBUTES, VALIBLOB_TELEMETRY_SCOPE } from './telemetry.names';

let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * The library's tracer. The global tracer provider is a proxy that delegates once an SDK registers, but
 * `trace.disable()` swaps the proxy itself: the tracer is taken again whenever the global provider changed.
 */
function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (!cachedTracer || provider !== cachedProvider) {
    cachedProvider = provider;
    cachedTracer = provider.getTracer(VALIBLOB_TELEMETRY_SCOPE);
  }
  return cachedTracer;
}

/**
 * Run `fn` inside a new active span (a child of the active one): calls it makes (store, provider) become its
 * children. A throw is recorded as an exception with status ERROR (the stable `code` as an attribute for our own
 * errors); the span always ends. Without an SDK the span is a no-op.
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

function recordFailure(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  if (error instanceof ValiBlobError) span.setAttribute(VALIBLOB_ATTRIBUTES.code, error.code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
