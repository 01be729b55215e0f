import type { IncomingMessage, ServerResponse } from 'node:http';

/** The server's metrics endpoint behind `GET /metrics` (the Prometheus text format), injected by class. */
export abstract class ServerMetrics {
  /** Answer one scrape on the raw Node request/response. */
  abstract serve(req: IncomingMessage, res: ServerResponse): void;
}
