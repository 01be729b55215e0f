import { BeforeApplicationShutdown, Injectable, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/** How often idle keep-alive connections are closed while the HTTP server shuts down. */
const REAP_INTERVAL_MS = 100;
/** Stop reaping after this long even if the server never reports that it closed. */
const REAP_LIMIT_MS = 60_000;

interface ClosableServer {
  closeIdleConnections?: () => void;
  once(event: 'close', listener: () => void): unknown;
  listening?: boolean;
}

/**
 * Keeps `app.close()` from waiting on upload clients' keep-alive connections. Node's `server.close()` closes the
 * connections that are idle at that instant only; a connection still finishing a response then (a download, the
 * answer to a chunk interrupted by shutdown) turns idle a moment later and is left open until the platform's
 * keep-alive timeout — 72 s on Fastify — which stalls a rolling restart. From shutdown on, this closes idle
 * connections every 100 ms until the server has closed. Requests in flight are never cut.
 */
@Injectable()
export class IdleConnectionReaper implements BeforeApplicationShutdown {
  constructor(@Optional() private readonly adapterHost?: HttpAdapterHost) {}

  beforeApplicationShutdown(): void {
    const server = this.adapterHost?.httpAdapter?.getHttpServer?.() as ClosableServer | undefined;
    if (!server || typeof server.closeIdleConnections !== 'function' || server.listening === false) return;
    const reap = setInterval(() => server.closeIdleConnections!(), REAP_INTERVAL_MS);
    const limit = setTimeout(() => clearInterval(reap), REAP_LIMIT_MS);
    reap.unref();
    limit.unref();
    server.once('close', () => {
      clearInterval(reap);
      clearTimeout(limit);
    });
  }
}
