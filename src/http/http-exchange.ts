import { Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { uploadLog, UploadLogSubject } from '../common/upload-log';
import { ForbiddenError, InvalidRequestError, UnauthorizedError, ValiBlobError } from '../errors/vali-blob.errors';
import { OwnerSpace } from '../uploads/owner-scope';
import type { AuthorizeContext, ResolvedValiBlobOptions, UploadAction } from '../vali-blob.options';

const logger = new Logger('ValiBlob');

/**
 * One request/response pair on either platform. Controllers use `@Req()`/`@Res()` and work on Node's own
 * `IncomingMessage`/`ServerResponse` (Express passes them directly; Fastify's are `req.raw`/`reply.raw` after
 * `reply.hijack()`), so bodies are streamed without any body parser and both platforms behave identically.
 */
export class HttpExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The upload this request acts on (and its owner once authorized), named in the request's error log line. */
  upload?: UploadLogSubject;

  constructor(
    /** The platform request object (given to the authorize hook). */
    readonly platformRequest: unknown,
    platformResponse: unknown,
  ) {
    const fastifyReply = platformResponse as {
      raw?: ServerResponse;
      hijack?: () => void;
      getHeaders?: () => Record<string, string | number | string[] | undefined>;
    };
    if (fastifyReply.raw && typeof fastifyReply.hijack === 'function') {
      // Headers guards and hooks set on the reply (a throttler's X-RateLimit-*, CORS) would be lost once the raw
      // response is written directly: carry them over.
      for (const [name, value] of Object.entries(fastifyReply.getHeaders?.() ?? {})) {
        if (value !== undefined && !fastifyReply.raw.hasHeader(name)) fastifyReply.raw.setHeader(name, value);
      }
      fastifyReply.hijack();
      this.res = fastifyReply.raw;
      this.req = (platformRequest as { raw: IncomingMessage }).raw;
    } else {
      this.res = platformResponse as ServerResponse;
      this.req = platformRequest as IncomingMessage;
    }
  }

  /** A request header as one string (first value when repeated). */
  header(name: string): string | undefined {
    const value = this.req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  /** The body as a stream: the raw request, never a parsed copy. */
  get body(): Readable {
    return this.req;
  }

  /** Parsed JSON body when the platform parsed one (Express/Fastify JSON parsers), else undefined. */
  get parsedBody(): unknown {
    return (this.platformRequest as { body?: unknown }).body;
  }

  /** Path of the request URL without the query string (still percent-encoded). */
  get urlPath(): string {
    // Express rewrites req.url inside mounted routers; originalUrl is always the full path.
    const url = (this.req as { originalUrl?: string }).originalUrl ?? this.req.url ?? '/';
    const q = url.indexOf('?');
    return q >= 0 ? url.slice(0, q) : url;
  }

  /** Send a JSON body (`contentType` for JSON media types such as `application/problem+json`). */
  json(
    status: number,
    body: unknown,
    headers: Record<string, string | number> = {},
    contentType = 'application/json; charset=utf-8',
  ): void {
    if (this.res.headersSent) return void this.res.end();
    this.closeIfBodyUnread();
    const payload = JSON.stringify(body);
    this.res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) this.res.setHeader(k, v);
    this.res.setHeader('Content-Type', contentType);
    this.res.setHeader('Content-Length', Buffer.byteLength(payload));
    this.res.end(payload);
  }

  /** Send headers and no body. */
  empty(status: number, headers: Record<string, string | number> = {}): void {
    if (this.res.headersSent) return void this.res.end();
    this.closeIfBodyUnread();
    this.res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) this.res.setHeader(k, v);
    this.res.end();
  }

  /**
   * Path of the request as routing saw it, safe to build URLs on: an absolute-form target
   * (`POST http://evil.example/files`) loses its scheme and authority, and leading slashes collapse to one
   * (`//evil.example/x` would be a protocol-relative URL in a `Location`).
   */
  get routedPath(): string {
    const path = this.urlPath.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
    return `/${path.replace(/^[/\\]+/, '')}`;
  }

  /**
   * Stream a body with backpressure; a client that goes away just ends the copy. The body is destroyed on
   * every failure, including headers the response refuses, so no file descriptor outlives the request.
   */
  async stream(status: number, headers: Record<string, string | number>, body: Readable): Promise<void> {
    try {
      if (this.res.headersSent || this.res.destroyed) throw new Error('The response is already sent or closed');
      this.closeIfBodyUnread();
      this.res.statusCode = status;
      for (const [k, v] of Object.entries(headers)) this.res.setHeader(k, v);
    } catch (error) {
      body.destroy();
      // Leave no half-set download headers (Content-Length, Content-Range) on the error answer that follows.
      if (!this.res.headersSent) for (const k of Object.keys(headers)) this.res.removeHeader(k);
      throw error;
    }
    try {
      await pipeline(body, this.res);
    } catch (error) {
      body.destroy();
      if (!this.res.destroyed) this.res.destroy(error as Error);
    }
  }

  /**
   * Before any answer (every `json`/`empty`/`stream` calls it): a body that fully arrived but sits unread is
   * discarded, so the keep-alive connection is idle again; a body still arriving closes the connection instead
   * of reading (possibly gigabytes of) body nobody wants. Either way no connection is left mid-request, which
   * would keep `app.close()` waiting until the platform's keep-alive timeout (Fastify: 72 s).
   */
  closeIfBodyUnread(): void {
    if (this.req.readableEnded) return;
    // Everything arrived but part of it sits unread in the stream (e.g. a body paused after an early error):
    // discard it so the keep-alive connection is idle again; otherwise app.close() would wait on it forever.
    if (this.req.complete) {
      this.req.resume();
      return;
    }
    this.res.setHeader('Connection', 'close');
  }
}

/** What a route tells the authorize hook besides the action and the request. */
export type AuthorizeExtra = Omit<AuthorizeContext, 'action' | 'request'>;

/**
 * Run the authorize hook for an action. Returns the owner id to bind (`null` for anonymous); throws 401/403.
 * Under owner scope an answer without a (safe) owner id is refused here, so every route refuses alike.
 */
export async function authorizeRequest(
  options: ResolvedValiBlobOptions,
  exchange: HttpExchange,
  action: UploadAction,
  extra: AuthorizeExtra = {},
): Promise<string | null> {
  const { uploadId } = extra;
  if (uploadId !== undefined) exchange.upload = { uploadId };
  const owner = await runAuthorizeHook(options, exchange, action, extra);
  if (options.ownerScope) OwnerSpace.of(options, owner);
  if (uploadId !== undefined) exchange.upload = { uploadId, ownerId: owner };
  return owner;
}

async function runAuthorizeHook(
  options: ResolvedValiBlobOptions,
  exchange: HttpExchange,
  action: UploadAction,
  extra: AuthorizeExtra,
): Promise<string | null> {
  if (!options.authorize) return null;
  const result = await options.authorize({ action, request: exchange.platformRequest, ...extra });
  if (result === true) return null;
  if (result === false || result === null || result === undefined) throw new UnauthorizedError();
  if ('allow' in result && result.allow === false) {
    if (result.status === 403) throw new ForbiddenError(result.message);
    throw new UnauthorizedError(result.message);
  }
  const owner = (result as { ownerId?: string | null }).ownerId;
  return owner ?? null;
}

/**
 * Map any error to a status and a JSON body with a stable `code`. Logging follows whose fault it is: client
 * mistakes (4xx) go to debug in one line, never with a stack (a hostile client must not flood the log);
 * known server-side failures (5xx `ValiBlobError`) get one concise line (error; log/warn for shutdown and the
 * write cap, which are expected); only unexpected errors (bugs) are logged with their stack. Each line names
 * `upload` (the request's `HttpExchange.upload`) when the request is about one.
 */
export function errorToBody(
  error: unknown,
  upload?: UploadLogSubject,
): { status: number; body: Record<string, unknown> } {
  const about = (line: string, cause?: unknown) => (upload ? uploadLog(line, upload, cause) : line);
  if (error instanceof ValiBlobError) {
    const line = about(`${error.status} ${error.code}: ${error.message}${causeOf(error)}`);
    if (error.status < 500) logger.debug(line);
    // Expected server-side conditions: a shutdown cutting a body short, load shedding past the write cap.
    else if (error.code === 'UPLOAD_INTERRUPTED') logger.log(line);
    else if (error.code === 'TOO_MANY_WRITES') logger.warn(line);
    else logger.error(line);
    const body = { statusCode: error.status, code: error.code, message: error.message, ...error.details };
    return { status: error.status, body };
  }
  const withStatus = error as { status?: number; statusCode?: number } | undefined;
  const status = withStatus?.status ?? withStatus?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Not ours but a client error (an HttpException from an application's guard or pipe, through
    // ValiBlobExceptionFilter): keep it one. Body-parser refusals never get here (PlatformErrorBridge).
    logger.debug(about(`${status} INVALID_REQUEST: ${(error as Error).message}`));
    return { status, body: { statusCode: status, code: 'INVALID_REQUEST', message: (error as Error).message } };
  }
  logger.error(upload ? about('Unexpected error', error) : `Unexpected error: ${(error as Error)?.stack ?? error}`);
  return { status: 500, body: { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' } };
}

/** Headers an error answer carries on every transport: where to resume, and when to retry. */
export function errorHeaders(error: unknown): Record<string, string | number> {
  const headers: Record<string, string | number> = {};
  if (!(error instanceof ValiBlobError)) return headers;
  if (typeof error.details.expectedOffset === 'number') headers['Upload-Offset'] = error.details.expectedOffset;
  const retryAfter = error.details.retryAfterSeconds;
  if (typeof retryAfter === 'number' && Number.isSafeInteger(retryAfter) && retryAfter >= 0) {
    headers['Retry-After'] = retryAfter;
  }
  return headers;
}

function causeOf(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? ` (cause: ${cause.message})` : '';
}

/** Parse a non-negative decimal integer header or path parameter strictly (no signs, spaces, exponents). */
export function parseNonNegativeInteger(
  value: string | undefined,
  what: string,
  code: 'INVALID_OFFSET' | 'INVALID_LENGTH' | 'INVALID_REQUEST' = 'INVALID_REQUEST',
): number {
  if (value === undefined || !/^\d{1,16}$/.test(value)) {
    throw new InvalidRequestError(`${what} must be a non-negative integer`, code);
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidRequestError(`${what} is too large`, code);
  return n;
}
