import { Inject, Injectable, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VALIBLOB_HTTP_OPTIONS } from '../vali-blob.constants';
import type { HttpMounts } from './http-mounts';
import { HttpExchange } from './http-exchange';

/** What the platform reports about a body it refused (Express body-parser or Fastify content-type parser). */
interface PlatformBodyError {
  status?: number;
  statusCode?: number;
  /** Express body-parser: `entity.parse.failed`, `entity.too.large`, … */
  type?: string;
  /** Fastify: `FST_ERR_CTP_INVALID_JSON_BODY`, `FST_ERR_CTP_BODY_TOO_LARGE`, … */
  code?: string;
  message?: string;
}

/** The slice of a Fastify instance this file uses (Fastify is an optional peer: no import of its types). */
interface FastifyLike {
  addHook(name: 'onRoute', hook: (route: { url?: string; errorHandler?: FastifyErrorHandler }) => void): void;
  readonly errorHandler: FastifyErrorHandler;
}
type FastifyErrorHandler = (error: unknown, request: unknown, reply: unknown) => unknown;

/**
 * Both platforms parse bodies before any controller runs, so controller filters never see what a parser
 * refuses and the answer would be the framework's, without a stable `code`. This answers those refusals with
 * the library's JSON — the same status and `code` on Express and Fastify — only on routes under the library's
 * own mounts; every other route of the app keeps its behaviour. `beforeRoutes()` sets it up;
 * `ValiBlobModule.configure` calls it once the platform is known, just before Nest registers routes.
 *
 * What the parsers refuse differs: both refuse malformed JSON and a body over the platform's limit; only Fastify
 * also refuses an empty JSON body and prototype keys (`__proto__`, `constructor.prototype`), which Express's
 * parser accepts — the REST route refuses those itself (`assertAcceptedJsonBody`), with the same status and
 * `code`. A chunk (PUT/PATCH) a parser tried to read was sent in a wrong content type: 415, as its route says.
 *
 * - Express: an error middleware placed after the body parsers and before the routes. Only body-parser's
 *   `entity.*` errors (parse failure, too large, verify) are answered; other errors go on unchanged. A GET/HEAD
 *   body is ignored as Fastify ignores it (never parsed): the request goes on to its route.
 * - Fastify: a route-level `errorHandler` on the library's routes, set by an `onRoute` hook, for the content-type
 *   parser's `FST_ERR_CTP_*` errors. Other errors go on to the application's error handler (Nest's) unchanged.
 */
@Injectable()
export class PlatformErrorBridge {
  constructor(
    @Inject(VALIBLOB_HTTP_OPTIONS) private readonly http: HttpMounts,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** Install the bridge for the current platform (must run before the library's routes are registered). */
  beforeRoutes(): void {
    const adapter = this.adapterHost?.httpAdapter;
    const mounts = this.mounts();
    if (!adapter || mounts.length === 0) return;
    const platform = adapter.getType?.();
    if (platform === 'express') this.bridgeExpress(adapter.getInstance(), mounts);
    if (platform === 'fastify') this.bridgeFastify(adapter.getInstance(), mounts);
  }

  private bridgeExpress(instance: { use: (handler: unknown) => void }, mounts: string[]): void {
    instance.use((error: PlatformBodyError, req: IncomingMessage, res: ServerResponse, next: (e?: unknown) => void) => {
      const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
      const isBodyError = String(error?.type ?? '').startsWith('entity.');
      if (!isBodyError || !isMountedUrl(url, mounts)) return next(error);
      if (req.method === 'GET' || req.method === 'HEAD') return next();
      const answer = bodyErrorAnswer(error, true, req);
      if (!answer) return next(error);
      new HttpExchange(req, res).json(answer.status, answer.body);
    });
  }

  private bridgeFastify(fastify: FastifyLike, mounts: string[]): void {
    const errorHandler: FastifyErrorHandler = (error, request, reply) => {
      const bodyError = error as PlatformBodyError | undefined;
      const answer = bodyErrorAnswer(bodyError, bodyError?.code?.startsWith('FST_ERR_CTP_'), request);
      // Resolved per error: Nest sets its handler after the routes are registered.
      if (!answer) return fastify.errorHandler(error, request, reply);
      new HttpExchange(request, reply).json(answer.status, answer.body);
    };
    fastify.addHook('onRoute', (route) => {
      if (isMountedRoute(route.url, mounts) && !route.errorHandler) route.errorHandler = errorHandler;
    });
  }

  /** Mounts with a path of their own (a root mount would claim every route of the app). */
  private mounts(): string[] {
    return [this.http.rest, this.http.tus, this.http.blobs, this.http.admin].filter((m): m is string => !!m);
  }
}

/**
 * The library's answer to a body the platform refused, or null when `error` is not such a refusal (`isBodyError`
 * says whether the platform flags it as one; it must also be a 4xx). Chunk bodies (PUT/PATCH) are never
 * parsed: a parser touching one means the content type was wrong (415). Otherwise 413 → SIZE_EXCEEDED,
 * 415 → UNSUPPORTED_CONTENT_TYPE, any other 4xx → INVALID_REQUEST.
 */
function bodyErrorAnswer(
  error: PlatformBodyError | undefined,
  isBodyError: boolean | undefined,
  request: unknown,
): { status: number; body: Record<string, unknown> } | null {
  const status = error?.status ?? error?.statusCode;
  if (!isBodyError || typeof status !== 'number' || status < 400 || status >= 500) return null;
  const method = (request as { method?: string }).method;
  if (method === 'PUT' || method === 'PATCH') {
    const message = 'Chunk bodies must be application/octet-stream or application/offset+octet-stream';
    return { status: 415, body: { statusCode: 415, code: 'UNSUPPORTED_CONTENT_TYPE', message } };
  }
  const code = status === 413 ? 'SIZE_EXCEEDED' : status === 415 ? 'UNSUPPORTED_CONTENT_TYPE' : 'INVALID_REQUEST';
  const message = `Request body rejected: ${error?.message ?? error?.type}`;
  return { status, body: { statusCode: status, code, message } };
}

/** Whether a request URL (path, maybe a query) lies under one of the mounts (after any global prefix). */
function isMountedUrl(url: string, mounts: string[]): boolean {
  const path = url.split('?')[0];
  return mounts.some((m) => path === `/${m}` || path.endsWith(`/${m}`) || path.includes(`/${m}/`));
}

/** Whether a route pattern (e.g. `/api/uploads/:id`) is one of the library's, under a mount. */
function isMountedRoute(url: string | undefined, mounts: string[]): boolean {
  return url !== undefined && isMountedUrl(url, mounts);
}
