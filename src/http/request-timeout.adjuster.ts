import { Inject, Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { VALIBLOB_HTTP_OPTIONS, VALIBLOB_OPTIONS } from '../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../vali-blob.options';

/** The part of `http.Server` this touches. */
interface TimeoutServer {
  requestTimeout?: number;
  listening?: boolean;
  once(event: 'listening', listener: () => void): unknown;
}

/** What the HTTP options say that matters here. */
interface RequestTimeoutHttpOptions {
  tus: string | null;
  rest: string | null;
  keepRequestTimeout: boolean;
}

/**
 * Keeps Node's `requestTimeout` (300 s by default since Node 18) from cutting long upload chunks in apps that only
 * followed the README.
 *
 * Node answers 408 and destroys the socket of any request whose body is still arriving after `requestTimeout`,
 * however steadily the bytes flow: a tus PATCH or REST PUT of a few hundred MiB on a slow link is cut mid-body and
 * the client retries the same chunk forever. The engine already ends a body that stops sending (`idleTimeoutMs`,
 * default 60 s) and keeps what arrived — the protection that matters, as in tusd — and `headersTimeout` still
 * bounds slow headers. So when tus or REST is mounted, the server's `requestTimeout` is set to 0 at bootstrap, and
 * once more when the server starts listening (an app may set it between `init()` and `listen()`); each change is
 * logged once. `http.keepRequestTimeout: true` leaves the app's value alone (a warning says what it cuts).
 * Fastify's server already runs with 0 (its own default) and is left as it is.
 */
@Injectable()
export class RequestTimeoutAdjuster implements OnApplicationBootstrap {
  private readonly logger = new Logger('ValiBlob');

  constructor(
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
    @Inject(VALIBLOB_HTTP_OPTIONS) private readonly http: RequestTimeoutHttpOptions,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.http.tus && !this.http.rest) return;
    const server = this.adapterHost?.httpAdapter?.getHttpServer?.() as TimeoutServer | undefined;
    if (!server || typeof server.requestTimeout !== 'number') return;
    if (this.http.keepRequestTimeout) {
      this.warnIfCutting(server.requestTimeout);
      return;
    }
    this.disable(server);
    // listen() after an explicit init(): whatever was set in between is checked again before any request arrives.
    if (!server.listening && typeof server.once === 'function') server.once('listening', () => this.disable(server));
  }

  /** Set a non-zero `requestTimeout` to 0 and say so (once per change). */
  private disable(server: TimeoutServer): void {
    const current = server.requestTimeout;
    if (typeof current !== 'number' || current === 0) return;
    server.requestTimeout = 0;
    this.logger.log(
      `HTTP server requestTimeout changed from ${current} ms to 0 so long upload chunks are not cut; a stalled ` +
        `body ends after idleTimeoutMs (${this.options.idleTimeoutMs} ms). http.keepRequestTimeout: true keeps yours.`,
    );
  }

  private warnIfCutting(current: number): void {
    if (current <= 0) return;
    this.logger.warn(
      `HTTP server requestTimeout is ${current} ms (kept: http.keepRequestTimeout): an upload chunk that takes ` +
        `longer is cut with 408 and retried; use smaller chunks or requestTimeout 0.`,
    );
  }
}
