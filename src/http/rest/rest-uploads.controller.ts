import { Delete, Get, Inject, Injectable, Param, Post, Put, Req, Res, UseFilters } from '@nestjs/common';
import { InvalidRequestError, UnsupportedContentTypeError } from '../../errors/vali-blob.errors';
import { ChunkChecksum, parseContentMd5, parseUploadChecksum } from '../../uploads/upload-checksum';
import { ResumableUploadService } from '../../uploads/resumable-upload.service';
import { VALIBLOB_HTTP_OPTIONS, VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { assertNoReservedMetadata } from '../../uploads/upload-transport';
import { ConflictPolicy, resolveConflictPolicy } from '../../uploads/conflict-policy';
import { errorHeaders, errorToBody, HttpExchange, parseNonNegativeInteger } from '../http-exchange';
import { RequestOwner } from '../request-owner';
import { assertAcceptedJsonBody } from './json-body';
import { ValiBlobExceptionFilter } from '../vali-blob-exception.filter';
import { withRequestTraceContext } from '../../telemetry/request-trace.context';

/** Content types a chunk body may carry (or none). Anything else could be eaten by a body parser. */
const CHUNK_CONTENT_TYPES = ['application/octet-stream', 'application/offset+octet-stream'];

/**
 * The plain REST three-step API (mounted at `http.rest.path`, default `/uploads`):
 *
 * - `POST /uploads` `{ totalSize, path?, contentType?, metadata?, provider?, conflict?, overwrite? }` → 201 session
 * - `PUT /uploads/:id/chunks/:offset` raw body (optional `Content-MD5` / `Upload-Checksum`) → 200 session
 * - `GET /uploads/:id` → 200 session
 * - `POST /uploads/:id/complete` → 200 `{ session, blob }`
 * - `DELETE /uploads/:id` → 200 session (status `Aborted`)
 *
 * Errors are JSON `{ statusCode, code, message, ... }` with the stable codes of `ValiBlobErrorCode`. Under owner
 * scope every `path` in bodies and answers is relative to the caller's owner space.
 * Mounted by the module under the configured path (the class itself carries no route prefix).
 */
@Injectable()
@UseFilters(ValiBlobExceptionFilter)
export class RestUploadsController {
  constructor(
    private readonly uploads: ResumableUploadService,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
    @Inject(VALIBLOB_HTTP_OPTIONS) private readonly http: { rest: string | null },
  ) {}

  @Post()
  async create(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    const exchange = new HttpExchange(req, res);
    await this.handle(exchange, async (caller) => {
      // What Fastify's parser refuses before any handler, refused here too (before authorize, as there).
      assertAcceptedJsonBody(exchange);
      const body = exchange.parsedBody;
      const isObject = !!body && typeof body === 'object' && !Array.isArray(body);
      const input = (isObject ? body : {}) as Record<string, unknown>;
      // The hook sees what the client asked for, as sent (before owner scope); the body is validated after it.
      const conflict = peekConflictPolicy(input);
      const owner = await caller.authorize('create', {
        path: typeof input.path === 'string' ? input.path : undefined,
        provider: typeof input.provider === 'string' ? input.provider : undefined,
        conflict,
        overwrite: conflict === undefined ? undefined : conflict === 'overwrite',
      });
      if (!isObject) throw new InvalidRequestError('Send a JSON object: { "totalSize": <bytes>, "path"?: "...", ... }');
      if (input.path !== undefined && typeof input.path !== 'string') {
        throw new InvalidRequestError('path must be a string');
      }
      if (input.provider !== undefined && typeof input.provider !== 'string') {
        throw new InvalidRequestError('provider must be a string');
      }
      // REST has no deferred length (that is tus's creation-defer-length): null, strings, fractions are 400.
      if (typeof input.totalSize !== 'number' || !Number.isSafeInteger(input.totalSize) || input.totalSize < 0) {
        throw new InvalidRequestError('totalSize is required: a non-negative integer (bytes)', 'INVALID_LENGTH');
      }
      assertNoReservedMetadata(input.metadata);
      const { space } = caller;
      const session = await this.uploads.start({
        owner,
        path: input.path === undefined ? undefined : space.toStored(input.path),
        // The default path must lie in the owner's space too.
        pathFor: (uploadId) => space.toStored(`uploads/${uploadId}`),
        totalSize: input.totalSize as number,
        contentType: input.contentType as string | undefined,
        metadata: input.metadata as Record<string, string> | undefined,
        provider: input.provider as string | undefined,
        conflict: resolveConflictPolicy(input.conflict, input.overwrite),
        transport: 'rest',
      });
      // Built on the path routing matched (global prefix kept), never on an absolute-form request target.
      const location = `${exchange.routedPath.replace(/\/+$/, '')}/${session.uploadId}`;
      exchange.json(201, space.view(session), { Location: location });
    });
  }

  @Put(':id/chunks/:offset')
  async chunk(
    @Req() req: unknown,
    @Res() res: unknown,
    @Param('id') id: string,
    @Param('offset') rawOffset: string,
  ): Promise<void> {
    const exchange = new HttpExchange(req, res);
    await this.handle(exchange, async (caller) => {
      const owner = await caller.authorize('write', { uploadId: id });
      const offset = parseNonNegativeInteger(rawOffset, 'Chunk offset', 'INVALID_OFFSET');
      const contentType = exchange.header('content-type')?.split(';')[0].trim().toLowerCase();
      if (contentType && !CHUNK_CONTENT_TYPES.includes(contentType)) {
        throw new UnsupportedContentTypeError(contentType, CHUNK_CONTENT_TYPES);
      }
      const lengthHeader = exchange.header('content-length');
      const contentLength =
        lengthHeader === undefined ? null : parseNonNegativeInteger(lengthHeader, 'Content-Length', 'INVALID_LENGTH');
      const result = await this.uploads.uploadChunk({
        uploadId: id,
        offset,
        body: exchange.body,
        contentLength,
        checksum: this.chunkChecksum(exchange),
        owner,
        transport: 'rest',
      });
      const view = caller.space.view(result.session);
      const offsetHeader = { 'Upload-Offset': result.session.uploadedBytes };
      exchange.json(200, { ...view, bytesWritten: result.bytesWritten }, offsetHeader);
    });
  }

  @Get(':id')
  async status(@Req() req: unknown, @Res() res: unknown, @Param('id') id: string): Promise<void> {
    const exchange = new HttpExchange(req, res);
    await this.handle(exchange, async (caller) => {
      const owner = await caller.authorize('status', { uploadId: id });
      const session = await this.uploads.getStatus(id, { owner });
      const headers = { 'Cache-Control': 'no-store', 'Upload-Offset': session.uploadedBytes };
      exchange.json(200, caller.space.view(session), headers);
    });
  }

  @Post(':id/complete')
  async complete(@Req() req: unknown, @Res() res: unknown, @Param('id') id: string): Promise<void> {
    const exchange = new HttpExchange(req, res);
    await this.handle(exchange, async (caller) => {
      const owner = await caller.authorize('complete', { uploadId: id });
      const result = await this.uploads.complete(id, { owner, transport: 'rest' });
      const { space } = caller;
      exchange.json(200, { session: space.view(result.session), blob: result.blob && space.view(result.blob) });
    });
  }

  @Delete(':id')
  async abort(@Req() req: unknown, @Res() res: unknown, @Param('id') id: string): Promise<void> {
    const exchange = new HttpExchange(req, res);
    await this.handle(exchange, async (caller) => {
      const owner = await caller.authorize('abort', { uploadId: id });
      exchange.json(200, caller.space.view(await this.uploads.abort(id, { owner, transport: 'rest' })));
    });
  }

  private chunkChecksum(exchange: HttpExchange): ChunkChecksum | undefined {
    const uploadChecksum = exchange.header('upload-checksum');
    if (uploadChecksum !== undefined) return parseUploadChecksum(uploadChecksum, this.options.checksumAlgorithms);
    const md5 = exchange.header('content-md5');
    if (md5 !== undefined) return parseContentMd5(md5, this.options.checksumAlgorithms);
    return undefined;
  }

  private async handle(exchange: HttpExchange, work: (caller: RequestOwner) => Promise<void>): Promise<void> {
    const caller = new RequestOwner(this.options, exchange);
    try {
      // The engine's spans join the client's trace (W3C traceparent) unless a server span is already active.
      await withRequestTraceContext(exchange.req.headers, () => work(caller));
    } catch (error) {
      const { status, body } = errorToBody(error, exchange.upload);
      // Messages name stored paths (e.g. BLOB_EXISTS): show them as the client knows them.
      if (typeof body.message === 'string') body.message = caller.space.message(body.message);
      exchange.closeIfBodyUnread();
      // Upload-Offset to resume at; Retry-After on 503s (write cap, shutdown) so clients back off and retry.
      exchange.json(status, body, errorHeaders(error));
    }
  }
}

/** The conflict policy a create body asks for, or `undefined` when it is invalid (reported after authorize). */
function peekConflictPolicy(input: Record<string, unknown>): ConflictPolicy | undefined {
  try {
    return resolveConflictPolicy(input.conflict, input.overwrite);
  } catch {
    return undefined;
  }
}
