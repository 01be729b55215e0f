import { Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ForbiddenError,
  InvalidRequestError,
  UnauthorizedError,
  ValiBlobError,
} from '../errors/vali-blob.errors';
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

  constructor(
    /** The platform request object (given to the authorize hook). */
    readonly platformRequest: unknown,
    platformResponse: unknown,
  ) {
    const fastifyReply = platformResponse as { raw?: ServerResponse; hijack?: () => void };
    if (fastifyReply.raw && typeof fastifyReply.hijack === 'function') {
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

  /** Send a JSON body. */
  json(status: number, body: unknown, headers: Record<string, string | number> = {}): void {
    if (this.res.headersSent) return void this.res.end();
    const payload = JSON.stringify(body);
    this.res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) this.res.setHeader(k, v);
    this.res.setHeader('Content-Type', 'application/json; charset=utf-8');
    this.res.setHeader('Content-Length', Buffer.byteLength(payload));
    this.res.end(payload);
  }

  /** Send headers and no body. */
  empty(status: number, headers: Record<string, string | number> = {}): void {
    if (this.res.headersSent) return void this.res.end();
    this.res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) this.res.setHeader(k, v);
    this.res.end();
  }

  /** Stream a body with backpressure; a client that goes away just ends the copy. */
  async stream(status: number, headers: Record<string, string | number>, body: Readable): Promise<void> {
    this.res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) this.res.setHeader(k, v);
    try {
      await pipeline(body, this.res);
    } catch (error) {
      body.destroy();
      if (!this.res.destroyed) this.res.destroy(error as Error);
    }
  }

  /**
   * After an error answer to a request whose body was not read, close the connection instead of reading
   * (possibly gigabytes of) body nobody wants.
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
  const owner = await runAuthorizeHook(options, exchange, action, extra);
  if (options.ownerScope) OwnerSpace.of(options, owner);
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

/** Map any error to a status and a JSON body with a stable `code`; unexpected errors are logged as 500. */
export function errorToBody(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof ValiBlobError) {
    return { status: error.status, body: { statusCode: error.status, code: error.code, message: error.message, ...error.details } };
  }
  const status = (error as { status?: number; statusCode?: number })?.status ?? (error as { statusCode?: number })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Platform errors for bad input (e.g. Express's JSON parser): keep them client errors.
    return { status, body: { statusCode: status, code: 'INVALID_REQUEST', message: (error as Error).message } };
  }
  logger.error(`Unexpected error: ${(error as Error)?.stack ?? error}`);
  return { status: 500, body: { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' } };
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
