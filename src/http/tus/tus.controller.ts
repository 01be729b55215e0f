import { Delete, Get, Head, Inject, Injectable, Options, Param, Patch, Post, Req, Res } from '@nestjs/common';
import { TUS_VERSION, VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { withRequestTraceContext } from '../../telemetry/request-trace.context';
import { HttpExchange } from '../http-exchange';
import { RequestOwner } from '../request-owner';
import { INTEROP_HEADER } from '../rufh/rufh-protocol';
import { RufhDispatcher } from '../rufh/rufh.dispatcher';
import { TusDeleteHandler } from './tus-delete.handler';
import { answerError, answerMethodNotAllowed, answerVersionMismatch } from './tus-errors';
import { TusGetHandler } from './tus-get.handler';
import { TusHeadHandler } from './tus-head.handler';
import { TusOptionsHandler } from './tus-options.handler';
import { TusPatchHandler } from './tus-patch.handler';
import { TusPostHandler } from './tus-post.handler';
import { corsHeaders, effectiveMethod } from './tus-protocol';
import type { TusRequest } from './tus-request';

/**
 * The tus 1.0.0 endpoint (mounted at `http.tus.path`, default `/files`), which also speaks the IETF resumable-upload
 * draft to requests carrying `Upload-Draft-Interop-Version` (`RufhDispatcher`, unless `tus.ietfDraft` is off). tus
 * with the extensions creation,
 * creation-with-upload, creation-defer-length, expiration, checksum, checksum-trailer, termination and
 * concatenation, on top of `ResumableUploadService` (the engine the REST API uses too). `GET /files/:id` streams
 * a completed upload with single-range support, as tusd does.
 *
 * The controller only routes: it builds the request's `TusRequest`, applies `X-HTTP-Method-Override` and the
 * version check, and dispatches to the handler of the method (`tus-<method>.handler.ts`, as @tus/server does).
 * Handlers work on the raw Node request/response (`HttpExchange`), so PATCH bodies are streamed, never parsed
 * or buffered, on Express and Fastify alike. Every error maps to a status with a stable JSON `code`
 * (`answerError`; see docs/tus.md for the table). Mounted by the module under the configured path.
 */
@Injectable()
export class TusController {
  constructor(
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
    private readonly optionsHandler: TusOptionsHandler,
    private readonly postHandler: TusPostHandler,
    private readonly headHandler: TusHeadHandler,
    private readonly patchHandler: TusPatchHandler,
    private readonly deleteHandler: TusDeleteHandler,
    private readonly getHandler: TusGetHandler,
    private readonly rufh: RufhDispatcher,
  ) {}

  /** Capabilities (and CORS preflight) of the endpoint. */
  @Options()
  async optionsRoot(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    await this.run(req, res, 'OPTIONS', undefined);
  }

  /** Capabilities (and CORS preflight) of one upload URL. */
  @Options(':id')
  async optionsUpload(@Req() req: unknown, @Res() res: unknown, @Param('id') id: string): Promise<void> {
    await this.run(req, res, 'OPTIONS', id);
  }

  /** Create an upload (creation, creation-with-upload, creation-defer-length, concatenation). */
  @Post()
  async create(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    await this.run(req, res, 'POST', undefined);
  }

  /** POST on an upload URL only makes sense with `X-HTTP-Method-Override` (tus-js-client `overridePatchMethod`). */
  @Post(':id')
  async overridden(@Req() req: unknown, @Res() res: unknown, @Param('id') id: string): Promise<void> {
    await this.run(req, res, 'POST', id);
  }

  // HEAD is declared before GET on purpose: Express lets a GET route answer HEAD requests when it comes first.
  /** Offset and state of an upload. */
  @Head(':id')
  async head(@Req() req: unknown, @Res() res: unknown, @Param('id') id: string): Promise<void> {
    await this.run(req, res, 'HEAD', id);
  }

  /** Append a chunk at `Upload-Offset`. */
  @Patch(':id')
  async patch(@Req() req: unknown, @Res() res: unknown, @Param('id') id: string): Promise<void> {
    await this.run(req, res, 'PATCH', id);
  }

  /** Terminate an upload (termination extension). */
  @Delete(':id')
  async terminate(@Req() req: unknown, @Res() res: unknown, @Param('id') id: string): Promise<void> {
    await this.run(req, res, 'DELETE', id);
  }

  /** Download a completed upload (Range supported). */
  @Get(':id')
  async download(@Req() req: unknown, @Res() res: unknown, @Param('id') id: string): Promise<void> {
    await this.run(req, res, 'GET', id);
  }

  private run(req: unknown, res: unknown, realMethod: string, id: string | undefined): Promise<void> {
    const exchange = new HttpExchange(req, res);
    // The engine's spans join the client's trace (W3C traceparent) unless a server span is already active.
    return withRequestTraceContext(exchange.req.headers, () => this.dispatch(exchange, realMethod, id));
  }

  private async dispatch(exchange: HttpExchange, realMethod: string, id: string | undefined): Promise<void> {
    const path = exchange.routedPath;
    const endpointPath = id === undefined ? path.replace(/\/+$/, '') : path.replace(/\/[^/]*\/?$/, '');
    const caller = new RequestOwner(this.options, exchange);
    const ctx: TusRequest = { exchange, method: realMethod, endpointPath, headers: {}, caller };
    // The IETF draft on the same endpoint, chosen per request by its interop header (see RufhDispatcher).
    if (this.options.tus.ietfDraft && exchange.header(INTEROP_HEADER) !== undefined) {
      return this.rufh.dispatch(ctx, id);
    }
    try {
      Object.assign(ctx.headers, corsHeaders(this.options, exchange, false));
      ctx.headers['Tus-Resumable'] = TUS_VERSION;
      ctx.method = effectiveMethod(exchange, realMethod);
      // OPTIONS answers with its own headers: no Tus-Resumable there (spec).
      if (ctx.method === 'OPTIONS') return this.optionsHandler.handle(ctx);
      // Offsets must never come from a cache, errors included (a cached 404 would restart an upload).
      if (ctx.method === 'HEAD') ctx.headers['Cache-Control'] = 'no-store';
      // GET is a plain download (browsers send no Tus-Resumable); every tus request must name the version.
      if (ctx.method !== 'GET' && exchange.header('tus-resumable') !== TUS_VERSION) return answerVersionMismatch(ctx);
      if (id === undefined) {
        if (ctx.method !== 'POST') return answerMethodNotAllowed(ctx, 'POST, OPTIONS');
        return await this.postHandler.handle(ctx);
      }
      switch (ctx.method) {
        case 'HEAD':
          return await this.headHandler.handle(ctx, id);
        case 'PATCH':
          return await this.patchHandler.handle(ctx, id);
        case 'DELETE':
          return await this.deleteHandler.handle(ctx, id);
        case 'GET':
          return await this.getHandler.handle(ctx, id);
        default:
          return answerMethodNotAllowed(ctx, 'HEAD, PATCH, DELETE, GET, OPTIONS');
      }
    } catch (error) {
      answerError(ctx, error, this.options);
    }
  }
}
