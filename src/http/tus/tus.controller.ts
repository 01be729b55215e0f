import { Delete, Get, Head, Inject, Injectable, Options, Param, Patch, Post, Req, Res } from '@nestjs/common';
import {
  ForbiddenError,
  InvalidRequestError,
  UnsupportedContentTypeError,
  UploadGoneError,
  UploadIncompleteError,
  UploadInterruptedError,
  ValiBlobError,
  BlobNotFoundError,
} from '../../errors/vali-blob.errors';
import { ACTIVE_STATUSES, UploadStatus } from '../../sessions/upload-session.model';
import { sanitizeFileName } from '../../storage/blob-path';
import { StorageRegistry } from '../../storage/storage.registry';
import { ChunkChecksum, parseUploadChecksum } from '../../uploads/upload-checksum';
import { ChunkResult, ResumableUploadService } from '../../uploads/resumable-upload.service';
import { TUS_VERSION, VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { parseRangeHeader } from '../blobs/range-header';
import { isHeaderSafe } from '../../uploads/content-type';
import { assertNoReservedMetadata, createdByTus, markCreatedByTus } from '../../uploads/upload-transport';
import { ShutdownInterruptedError } from '../../uploads/write-slots';
import { authorizeRequest, errorHeaders, errorToBody, HttpExchange, parseNonNegativeInteger } from '../http-exchange';
import { RequestOwner } from '../request-owner';
import { concatenatePartials } from './tus-concatenation';
import { FILENAME_KEYS, formatTusMetadata, metadataContentType, parseTusMetadata, pickMetadata } from './tus-metadata';
import {
  corsHeaders,
  endpointUrl,
  httpDate,
  parseUploadConcat,
  TUS_CONTENT_TYPE,
  TUS_METHODS,
  TUS_VERSIONS,
  tusExtensions,
} from './tus-protocol';

/** A UTF-16 surrogate without its pair (REST metadata can hold one); encodeURIComponent would throw on it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Methods `X-HTTP-Method-Override` may name. */
const OVERRIDABLE = new Set(['POST', 'GET', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS']);

/** Per-request state: headers every answer carries (success or error). */
interface TusRequest {
  exchange: HttpExchange;
  /** The method after `X-HTTP-Method-Override`. */
  method: string;
  /** Path of the endpoint itself (`/files`, with any global prefix), for `Location` and concat URLs. */
  endpointPath: string;
  headers: Record<string, string | number>;
  /** The caller once authorized at create (owner space for naming and error texts). */
  caller: RequestOwner;
}

/**
 * The tus 1.0.0 endpoint (mounted at `http.tus.path`, default `/files`) with the extensions creation,
 * creation-with-upload, creation-defer-length, expiration, checksum, checksum-trailer, termination and
 * concatenation, on top of `ResumableUploadService` (the engine the REST API uses too). `GET /files/:id` streams
 * a completed upload with single-range support, as tusd does.
 *
 * Handlers work on the raw Node request/response (`HttpExchange`), so PATCH bodies are streamed, never parsed
 * or buffered, on Express and Fastify alike. Every engine error maps to a status with a stable JSON `code`
 * (see docs/tus.md for the table). Mounted by the module under the configured path.
 */
@Injectable()
export class TusController {
  constructor(
    private readonly uploads: ResumableUploadService,
    private readonly registry: StorageRegistry,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
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

  private async run(req: unknown, res: unknown, realMethod: string, id: string | undefined): Promise<void> {
    const exchange = new HttpExchange(req, res);
    const path = exchange.routedPath;
    const endpointPath = id === undefined ? path.replace(/\/+$/, '') : path.replace(/\/[^/]*\/?$/, '');
    const caller = new RequestOwner(this.options, exchange);
    const ctx: TusRequest = { exchange, method: realMethod, endpointPath, headers: {}, caller };
    try {
      Object.assign(ctx.headers, corsHeaders(this.options, exchange, false));
      ctx.headers['Tus-Resumable'] = TUS_VERSION;
      // Only a POST may act as another method (as tusd does): it exists for proxies that block PATCH/DELETE;
      // honouring it on GET/HEAD would let a cacheable or "safe" request change state.
      const override = realMethod === 'POST' ? exchange.header('x-http-method-override') : undefined;
      if (override !== undefined) {
        const method = override.trim().toUpperCase();
        if (!OVERRIDABLE.has(method)) throw new InvalidRequestError('X-HTTP-Method-Override names an unsupported method');
        ctx.method = method;
      }
      // OPTIONS answers with its own headers: no Tus-Resumable there (spec).
      if (ctx.method === 'OPTIONS') return this.capabilities(ctx);
      // Offsets must never come from a cache, errors included (a cached 404 would restart an upload).
      if (ctx.method === 'HEAD') ctx.headers['Cache-Control'] = 'no-store';
      // GET is a plain download (browsers send no Tus-Resumable); every tus request must name the version.
      if (ctx.method !== 'GET' && exchange.header('tus-resumable') !== TUS_VERSION) return this.versionMismatch(ctx);
      if (id === undefined) {
        if (ctx.method !== 'POST') return this.methodNotAllowed(ctx, 'POST, OPTIONS');
        return await this.handleCreate(ctx);
      }
      switch (ctx.method) {
        case 'HEAD':
          return await this.handleHead(ctx, id);
        case 'PATCH':
          return await this.handlePatch(ctx, id);
        case 'DELETE':
          return await this.handleDelete(ctx, id);
        case 'GET':
          return await this.handleGet(ctx, id);
        default:
          return this.methodNotAllowed(ctx, 'HEAD, PATCH, DELETE, GET, OPTIONS');
      }
    } catch (error) {
      this.fail(ctx, error);
    }
  }

  /** OPTIONS: 204 (or 200 with `tus.optionsStatus200`) with the capabilities; no `Tus-Resumable` (spec). */
  private capabilities(ctx: TusRequest): void {
    const headers: Record<string, string | number> = {
      ...corsHeaders(this.options, ctx.exchange, true),
      'Tus-Version': TUS_VERSIONS.join(','),
      'Tus-Extension': tusExtensions(this.options).join(','),
      'Tus-Max-Size': this.options.maxUploadSize,
      Allow: TUS_METHODS.join(', '),
    };
    if (this.options.checksumAlgorithms.length > 0) headers['Tus-Checksum-Algorithm'] = this.options.checksumAlgorithms.join(',');
    const status = this.options.tus.optionsStatus200 ? 200 : 204;
    if (status === 200) headers['Content-Length'] = 0;
    ctx.exchange.empty(status, headers);
  }

  private async handleCreate(ctx: TusRequest): Promise<void> {
    const { exchange } = ctx;
    const concat = parseUploadConcat(exchange.header('upload-concat'));
    const conflict = this.options.tus.conflict;
    const owner = await ctx.caller.authorize('create', {
      conflict,
      overwrite: conflict === 'overwrite',
      partials: concat.kind === 'final' ? concat.ids : undefined,
    });
    const metadata = parseTusMetadata(exchange.header('upload-metadata'), this.options.tus.maxMetadataSize);
    assertNoReservedMetadata(metadata);
    const lengthHeader = exchange.header('upload-length');
    const deferHeader = exchange.header('upload-defer-length');
    const { space } = ctx.caller;
    const base = {
      owner,
      // Marked as created through tus: only such uploads may be finished by a HEAD (see handleHead).
      metadata: markCreatedByTus(metadata),
      contentType: metadataContentType(metadata),
      // Naming speaks client paths; under owner scope they land in the caller's space.
      pathFor: async (uploadId: string) => space.toStored(await this.pathFor(uploadId, metadata, exchange)),
      conflict,
      autoComplete: true,
    };

    if (concat.kind === 'final') {
      if (lengthHeader !== undefined || deferHeader !== undefined) {
        throw new InvalidRequestError('A final concatenated upload takes no Upload-Length: it is the sum of its partials');
      }
      const { maxUploadSize } = this.options;
      const session = await concatenatePartials(this.uploads, this.registry, maxUploadSize, concat.ids, base);
      const location = `${endpointUrl(this.options, exchange, ctx.endpointPath)}/${session.uploadId}`;
      exchange.closeIfBodyUnread();
      return exchange.empty(201, { ...ctx.headers, Location: location, 'Upload-Offset': session.uploadedBytes });
    }

    let totalSize: number | null;
    if (lengthHeader !== undefined && deferHeader !== undefined) {
      throw new InvalidRequestError('Send either Upload-Length or Upload-Defer-Length, not both', 'INVALID_LENGTH');
    } else if (lengthHeader !== undefined) {
      totalSize = parseNonNegativeInteger(lengthHeader, 'Upload-Length', 'INVALID_LENGTH');
    } else if (deferHeader !== undefined) {
      if (deferHeader.trim() !== '1') throw new InvalidRequestError('Upload-Defer-Length must be 1', 'INVALID_LENGTH');
      totalSize = null;
    } else {
      throw new InvalidRequestError('Upload-Length or Upload-Defer-Length is required', 'INVALID_LENGTH');
    }

    // creation-with-upload: the body counts only with the tus content type; validate it before creating anything.
    const withBody = hasBody(exchange) && mediaType(exchange) === TUS_CONTENT_TYPE;
    const contentLength = withBody ? this.contentLength(exchange) : null;
    const checksum = withBody ? this.chunkChecksum(exchange) : undefined;
    // Past the write cap (or during shutdown) refuse before a session exists, so a retry does not leave one behind.
    if (withBody) this.uploads.assertWriteCapacity();

    const session = await this.uploads.start({ ...base, totalSize, concat: concat.kind === 'partial' ? 'partial' : null });
    const location = `${endpointUrl(this.options, exchange, ctx.endpointPath)}/${session.uploadId}`;
    // From here on every answer, error or not, tells the client where its upload lives so it can resume.
    ctx.headers.Location = location;
    let offset = session.uploadedBytes;
    let expiresAt = Date.parse(session.expiresAt);
    let status = session.status;
    if (withBody) {
      const result = await this.uploads.uploadChunk({
        uploadId: session.uploadId,
        offset: 0,
        body: exchange.body,
        contentLength,
        checksum,
        owner,
        autoComplete: true,
      });
      offset = result.session.uploadedBytes;
      expiresAt = Date.parse(result.session.expiresAt);
      status = result.session.status;
      if (result.endReason === 'idle') return this.stalled(ctx, result);
    } else {
      exchange.closeIfBodyUnread();
    }
    const headers: Record<string, string | number> = { ...ctx.headers };
    if (ACTIVE_STATUSES.includes(status)) headers['Upload-Expires'] = httpDate(expiresAt);
    if (withBody) headers['Upload-Offset'] = offset;
    exchange.empty(201, headers);
  }

  private async handleHead(ctx: TusRequest, id: string): Promise<void> {
    const { exchange } = ctx;
    const owner = await authorizeRequest(this.options, exchange, 'status', { uploadId: id });
    let session = await this.uploads.getSession(id, { owner });
    if (
      createdByTus(session) &&
      ACTIVE_STATUSES.includes(session.status) &&
      session.totalSize !== null &&
      session.uploadedBytes === session.totalSize &&
      session.expiresAt > Date.now()
    ) {
      // Every byte is stored but the completion did not finish (the server died during it). A tus client that
      // sees Upload-Offset == Upload-Length sends nothing more, so finish it now (idempotent, under the lock).
      // Only for uploads tus created: a REST upload is published when its own client calls complete, never here.
      await this.uploads.complete(id, { owner });
      session = await this.uploads.getSession(id, { owner });
    }
    if (session.status === UploadStatus.Aborted) throw new UploadGoneError(id, 'aborted');
    const active = ACTIVE_STATUSES.includes(session.status);
    if (active && session.expiresAt <= Date.now()) throw new UploadGoneError(id, 'expired');
    const headers: Record<string, string | number> = { ...ctx.headers };
    const isFinal = session.concat?.startsWith('final;') === true;
    // A final upload reports its offset only once it is done (spec); ours are built before POST answers.
    if (!isFinal || session.status === UploadStatus.Complete) headers['Upload-Offset'] = session.uploadedBytes;
    if (session.totalSize === null) headers['Upload-Defer-Length'] = 1;
    else headers['Upload-Length'] = session.totalSize;
    const metadata = formatTusMetadata(session.metadata);
    if (metadata !== '') headers['Upload-Metadata'] = metadata;
    if (session.concat === 'partial') headers['Upload-Concat'] = 'partial';
    else if (isFinal) {
      const base = endpointUrl(this.options, exchange, ctx.endpointPath);
      const urls = session.concat!.slice('final;'.length).split(' ').map((partId) => `${base}/${partId}`);
      headers['Upload-Concat'] = `final;${urls.join(' ')}`;
    }
    if (active) headers['Upload-Expires'] = httpDate(session.expiresAt);
    exchange.empty(200, headers);
  }

  private async handlePatch(ctx: TusRequest, id: string): Promise<void> {
    const { exchange } = ctx;
    const owner = await authorizeRequest(this.options, exchange, 'write', { uploadId: id });
    const type = mediaType(exchange);
    if (type !== TUS_CONTENT_TYPE) throw new UnsupportedContentTypeError(exchange.header('content-type'), [TUS_CONTENT_TYPE]);
    const offset = parseNonNegativeInteger(exchange.header('upload-offset'), 'Upload-Offset', 'INVALID_OFFSET');
    const lengthHeader = exchange.header('upload-length');
    const declareTotalSize = lengthHeader === undefined ? undefined : parseNonNegativeInteger(lengthHeader, 'Upload-Length', 'INVALID_LENGTH');
    const contentLength = this.contentLength(exchange);
    const checksum = this.chunkChecksum(exchange);
    const session = await this.uploads.getSession(id, { owner });
    if (session.concat?.startsWith('final;')) throw new ForbiddenError('A final concatenated upload cannot be patched');

    const result = await this.uploads.uploadChunk({
      uploadId: id,
      offset,
      body: exchange.body,
      contentLength,
      checksum,
      declareTotalSize,
      owner,
      autoComplete: true,
    });
    if (result.endReason === 'idle' || result.endReason === 'aborted') return this.stalled(ctx, result);
    const headers: Record<string, string | number> = { ...ctx.headers, 'Upload-Offset': result.session.uploadedBytes };
    if (ACTIVE_STATUSES.includes(result.session.status)) headers['Upload-Expires'] = httpDate(Date.parse(result.session.expiresAt));
    exchange.empty(204, headers);
  }

  private async handleDelete(ctx: TusRequest, id: string): Promise<void> {
    const { exchange } = ctx;
    const owner = await authorizeRequest(this.options, exchange, 'abort', { uploadId: id });
    await this.uploads.abort(id, { owner, allowFinished: this.options.tus.allowTerminateFinished });
    exchange.closeIfBodyUnread();
    exchange.empty(204, ctx.headers);
  }

  private async handleGet(ctx: TusRequest, id: string): Promise<void> {
    const { exchange } = ctx;
    const owner = await authorizeRequest(this.options, exchange, 'read', { uploadId: id });
    const session = await this.uploads.getSession(id, { owner });
    if (session.status === UploadStatus.Aborted) throw new UploadGoneError(id, 'aborted');
    if (session.status !== UploadStatus.Complete) throw new UploadIncompleteError(session.uploadedBytes, session.totalSize);
    const provider = this.registry.get(session.provider);
    const info = await provider.stat(session.path);
    if (!info) throw new BlobNotFoundError(session.path);
    const rawName = pickMetadata(session.metadata, FILENAME_KEYS) ?? session.path.split('/').pop() ?? 'file';
    const name = rawName.replace(LONE_SURROGATE, '\uFFFD');
    // A type stored by another writer (or before create validated it) that cannot be a header is not sent.
    const stored = info.contentType;
    const contentType = stored && isHeaderSafe(stored) ? stored : 'application/octet-stream';
    const headers: Record<string, string | number> = {
      ...ctx.headers,
      'Content-Type': contentType,
      'Accept-Ranges': 'bytes',
      'Last-Modified': httpDate(info.lastModified),
      // Uploaded content is untrusted: never let a browser render it on this origin.
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "sandbox; default-src 'none'",
      'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(sanitizeFileName(name))}`,
    };
    if (info.etag && isHeaderSafe(info.etag)) headers.ETag = info.etag;
    const rangeHeader = exchange.header('range');
    let range = rangeHeader ? parseRangeHeader(rangeHeader, info.size) ?? undefined : undefined;
    if (range && range.start >= info.size) {
      return exchange.json(416, { statusCode: 416, code: 'INVALID_RANGE', message: 'Range not satisfiable' }, {
        ...ctx.headers,
        'Content-Range': `bytes */${info.size}`,
      });
    }
    if (range && range.start === 0 && (range.end ?? info.size - 1) >= info.size - 1) range = undefined;
    const result = await provider.get(session.path, range);
    if (result.range) {
      const { start, end } = result.range;
      headers['Content-Length'] = end - start + 1;
      headers['Content-Range'] = `bytes ${start}-${end}/${info.size}`;
      return exchange.stream(206, headers, result.stream);
    }
    headers['Content-Length'] = info.size;
    return exchange.stream(200, headers, result.stream);
  }

  /** Where a tus upload is stored: `tus.naming`, else `tus/<uploadId>/<sanitised filename>`. */
  private async pathFor(uploadId: string, metadata: Record<string, string>, exchange: HttpExchange): Promise<string> {
    if (this.options.tus.naming) {
      return this.options.tus.naming({ uploadId, metadata: { ...metadata }, request: exchange.platformRequest });
    }
    return `tus/${uploadId}/${sanitizeFileName(pickMetadata(metadata, FILENAME_KEYS))}`;
  }

  private contentLength(exchange: HttpExchange): number | null {
    const header = exchange.header('content-length');
    return header === undefined ? null : parseNonNegativeInteger(header, 'Content-Length', 'INVALID_LENGTH');
  }

  /** `Upload-Checksum` header, or (checksum-trailer) a reader of the trailer once the body has ended. */
  private chunkChecksum(exchange: HttpExchange): ChunkChecksum | (() => ChunkChecksum | undefined) | undefined {
    const header = exchange.header('upload-checksum');
    if (header !== undefined) return parseUploadChecksum(header, this.options.checksumAlgorithms);
    const announced = (exchange.header('trailer') ?? '').split(',').some((t) => t.trim().toLowerCase() === 'upload-checksum');
    if (!announced) return undefined;
    return () => {
      const trailer = exchange.req.trailers['upload-checksum'];
      // The client promised a checksum: a missing one means the body cannot be trusted, so it is discarded.
      if (trailer === undefined) throw new InvalidRequestError('The announced Upload-Checksum trailer did not arrive');
      return parseUploadChecksum(trailer, this.options.checksumAlgorithms);
    };
  }

  /** 412 with `Tus-Version`, and nothing processed. */
  private versionMismatch(ctx: TusRequest): void {
    ctx.exchange.closeIfBodyUnread();
    ctx.exchange.json(
      412,
      { statusCode: 412, code: 'INVALID_REQUEST', message: `Tus-Resumable must be ${TUS_VERSIONS.join(' or ')}` },
      { ...ctx.headers, 'Tus-Version': TUS_VERSIONS.join(',') },
    );
  }

  private methodNotAllowed(ctx: TusRequest, allow: string): void {
    ctx.exchange.closeIfBodyUnread();
    ctx.exchange.json(405, { statusCode: 405, code: 'INVALID_REQUEST', message: `Method ${ctx.method} is not allowed here` }, {
      ...ctx.headers,
      Allow: allow,
    });
  }

  /**
   * The body stopped before its end (idle timeout or reset). What arrived is stored and the offset shows it;
   * answer 500 on purpose (as tusd does) because tus clients retry 5xx with HEAD + PATCH.
   */
  private stalled(ctx: TusRequest, result: ChunkResult): void {
    ctx.exchange.closeIfBodyUnread();
    ctx.exchange.json(
      500,
      {
        statusCode: 500,
        code: 'UPLOAD_INTERRUPTED',
        message: `The request body stopped early (${result.endReason}); ${result.bytesWritten} bytes were stored, resume at the offset`,
        expectedOffset: result.session.uploadedBytes,
      },
      { ...ctx.headers, 'Upload-Offset': result.session.uploadedBytes },
    );
  }

  /** Map an error to the tus status (see docs/tus.md); the body is JSON with a stable `code`. */
  private fail(ctx: TusRequest, error: unknown): void {
    const { exchange } = ctx;
    let { status, body } = errorToBody(error);
    const headers: Record<string, string | number> = { ...ctx.headers, ...errorHeaders(error) };
    if (error instanceof ValiBlobError) {
      // Shutdown: 503 + Retry-After (tus clients retry it); the client reconnects, to the restarted server or another.
      if (error instanceof ShutdownInterruptedError) headers.Connection = 'close';
      if (error instanceof UploadInterruptedError) {
        // A newer request took over: the stored prefix is kept; the client must HEAD and resume.
        status = 400;
        headers.Connection = 'close';
      }
      if (error.code === 'UPLOAD_COMPLETE') status = 400;
      if (error.code === 'SIZE_EXCEEDED') headers['Tus-Max-Size'] = this.options.maxUploadSize;
      body = { ...body, statusCode: status };
    }
    // Messages name stored paths (e.g. BLOB_EXISTS): show them as the client knows them.
    if (typeof body.message === 'string') body.message = ctx.caller.space.message(body.message);
    exchange.closeIfBodyUnread();
    if (ctx.method === 'HEAD') return exchange.empty(status, headers);
    exchange.json(status, body, headers);
  }
}

/** The request's media type, lower-case, without parameters. */
function mediaType(exchange: HttpExchange): string | undefined {
  return exchange.header('content-type')?.split(';')[0].trim().toLowerCase() || undefined;
}

/** Whether the request announces a body (a length above 0, or chunked transfer). */
function hasBody(exchange: HttpExchange): boolean {
  const length = exchange.header('content-length');
  if (length !== undefined) return length.trim() !== '0';
  return exchange.header('transfer-encoding') !== undefined;
}
