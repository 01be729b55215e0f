import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { VALIBLOB_HTTP_OPTIONS } from '../vali-blob.constants';
import type { HttpMounts } from './http-mounts';
import { FastifyHooks, shieldDraftContent } from './rufh/rufh-representation-type';

/** Content types whose bodies the ValiBlob routes stream themselves. */
const RAW_BODY_CONTENT_TYPES = ['application/offset+octet-stream', 'application/octet-stream'];

/** The slice of a Fastify request the parsers look at. */
interface ParsedRequest {
  routeOptions?: { url?: string };
  /** True when no route matched (Fastify's not-found context). */
  is404?: boolean;
  url?: string;
}

/** The slice of the Fastify instance this file uses (Fastify is an optional peer: no import of its types). */
interface FastifyLike {
  hasContentTypeParser(contentType: string): boolean;
  addContentTypeParser(
    contentType: string | string[],
    parser: (request: ParsedRequest, payload: unknown, done: (error: Error | null, body?: unknown) => void) => void,
  ): void;
}

/**
 * Lets upload bodies reach the ValiBlob handlers untouched on `@nestjs/platform-fastify`.
 *
 * Fastify answers 415 itself for a content type it has no parser for (and for a body without any content type),
 * before any handler runs — so tus PATCH (`application/offset+octet-stream`) and REST chunk PUT bodies would
 * never arrive. On module init, which Nest runs before `listen` serves a route, this registers a pass-through
 * parser (it reads nothing; the handler streams `request.raw`) for those types and a catch-all for bodies
 * with no or unknown content types. The parsers pass through only on routes under the ValiBlob mounts (and
 * on unknown paths under them, which then get the 404 Express gives); elsewhere they answer exactly what
 * Fastify would have (415, as a FastifyError), so the rest of the application is unchanged.
 * A parser the application registered first is left alone (with a warning when it would eat upload bodies).
 * On Express, and without an HTTP server, this does nothing.
 */
@Injectable()
export class FastifyBodyParserRegistrar implements OnModuleInit {
  private readonly logger = new Logger('ValiBlob');

  constructor(
    @Inject(VALIBLOB_HTTP_OPTIONS) private readonly http: HttpMounts,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter || adapter.getType() !== 'fastify') return;
    // The blob route too: a body sent to an unknown path under it gets the 404 Express gives, not a 415.
    const mounts = [this.http.tus, this.http.rest, this.http.blobs].filter((m): m is string => m !== null);
    if (mounts.length === 0) return;
    const fastify = adapter.getInstance() as FastifyLike & FastifyHooks;
    registerPassThroughParsers(fastify, mounts, this.logger);
    // The IETF draft labels creation content with the representation's type: keep it from Fastify's parsers too.
    const tus = this.http.tus;
    if (tus !== null) shieldDraftContent(fastify, (url) => underMounts(url, [tus]));
  }
}

/** Whether a route URL lies under one of the mounts. */
function underMounts(url: string | undefined, mounts: string[]): boolean {
  if (!url) return false;
  const route = `/${url.replace(/^\/+|\/+$/g, '')}/`;
  return mounts.some((mount) => route.includes(`/${mount}/`));
}

/** Register the pass-through parsers on a Fastify instance (see `FastifyBodyParserRegistrar`). */
function registerPassThroughParsers(fastify: FastifyLike, mounts: string[], logger?: Logger): void {
  const isUploadRoute = (url: string | undefined): boolean => underMounts(url, mounts);
  const passThrough: Parameters<FastifyLike['addContentTypeParser']>[1] = (request, _payload, done) => {
    // No route matched: a path under a mount goes on to the not-found answer (404), as on Express.
    const url = request.is404 ? request.url?.split('?')[0] : request.routeOptions?.url;
    if (isUploadRoute(url)) return done(null, undefined);
    // Not ours: the same answer Fastify gives when no parser matches — a FastifyError, so Nest maps it to a
    // plain 415 (any other error it would log with a stack, for every such request).
    const error = Object.assign(new Error('Unsupported Media Type'), {
      name: 'FastifyError',
      statusCode: 415,
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    });
    done(error);
  };
  for (const contentType of [...RAW_BODY_CONTENT_TYPES, '*']) {
    if (contentType === '*' ? hasCatchAllParser(fastify) : fastify.hasContentTypeParser(contentType)) {
      if (contentType !== '*') {
        logger?.warn(`Fastify already has a ${contentType} body parser: upload routes need the raw body stream`);
      }
      continue;
    }
    fastify.addContentTypeParser(contentType, passThrough);
  }
}

/**
 * Whether the application already registered a catch-all (`'*'`) parser. Fastify's `hasContentTypeParser('*')`
 * cannot tell (it normalises `*` to `/`), and adding a second one silently replaces the first, so look at the
 * parser table itself; when Fastify's internals differ, assume there is none.
 */
function hasCatchAllParser(fastify: FastifyLike): boolean {
  const symbol = Object.getOwnPropertySymbols(fastify).find((s) => s.description === 'fastify.contentTypeParser');
  const tables = fastify as unknown as Record<symbol, { customParsers?: Map<string, unknown> }>;
  const table = symbol ? tables[symbol] : undefined;
  return table?.customParsers instanceof Map ? table.customParsers.has('') : false;
}
