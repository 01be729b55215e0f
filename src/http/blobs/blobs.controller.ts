import { Get, Head, Inject, Injectable, Req, Res } from '@nestjs/common';
import { InvalidPathError, InvalidRequestError } from '../../errors/vali-blob.errors';
import { validateBlobPath } from '../../storage/blob-path';
import { BlobInfo, ByteRange } from '../../storage/storage-provider';
import { StorageRegistry } from '../../storage/storage.registry';
import { isHeaderSafe } from '../../uploads/content-type';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { errorToBody, HttpExchange } from '../http-exchange';
import { RequestOwner } from '../request-owner';
import { routedBlobSegments } from './blob-route';
import { parseRangeHeader } from './range-header';

/**
 * Blob read route (mounted at `http.blobs.path` when configured; the wildcard route path per platform comes
 * from `markBlobMount`/`routeBlobMounts`): `GET /<path>/*` streams a blob of the
 * default provider with single-range support (206 / 416), `HEAD` answers the same headers without a body.
 * Blobs are served as attachments with `nosniff` and a sandbox CSP, so uploaded HTML cannot run on this origin.
 * Under owner scope the URL path is relative to the caller's owner space: another owner's blob does not exist
 * at any spelling, because the caller's prefix is added after decoding and validating what was asked for.
 */
@Injectable()
export class BlobsController {
  constructor(
    private readonly registry: StorageRegistry,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
  ) {}

  // No method paths: the mount gives the controller `<mount>/<wildcard>` in the router's own syntax.
  // HEAD is declared before GET: Fastify adds a HEAD route to every GET and refuses a HEAD declared after it.
  @Head()
  async head(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    await this.serve(new HttpExchange(req, res), true);
  }

  @Get()
  async read(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    await this.serve(new HttpExchange(req, res), false);
  }

  private async serve(exchange: HttpExchange, headOnly: boolean): Promise<void> {
    const caller = new RequestOwner(this.options, exchange);
    try {
      const requested = this.blobPath(exchange);
      // `/<mount>/` itself names no blob (the same 404 as a missing one).
      if (requested === null) return exchange.json(404, NOT_FOUND);
      await caller.authorize('read', { path: requested });
      const path = caller.space.toStored(requested);
      const provider = this.registry.get();
      const info = await provider.stat(path);
      if (!info) return exchange.json(404, NOT_FOUND);
      const headers = blobHeaders(info);
      const rangeHeader = exchange.header('range');
      let range: ByteRange | undefined = rangeHeader ? parseRangeHeader(rangeHeader, info.size) ?? undefined : undefined;
      if (range && range.start >= info.size) {
        return exchange.json(416, { statusCode: 416, code: 'INVALID_RANGE', message: 'Range not satisfiable' }, {
          'Content-Range': `bytes */${info.size}`,
        });
      }
      if (range && range.start === 0 && (range.end ?? info.size - 1) >= info.size - 1) range = undefined;
      if (headOnly) {
        return exchange.empty(200, { ...headers, 'Content-Length': info.size });
      }
      const result = await provider.get(path, range);
      if (result.range) {
        const { start, end } = result.range;
        // Awaited inside the try: a failure while sending headers is answered here, not by the framework.
        return await exchange.stream(206, {
          ...headers,
          'Content-Length': end - start + 1,
          'Content-Range': `bytes ${start}-${end}/${info.size}`,
        }, result.stream);
      }
      return await exchange.stream(200, { ...headers, 'Content-Length': info.size }, result.stream);
    } catch (error) {
      const { status, body } = errorToBody(error);
      if (typeof body.message === 'string') body.message = caller.space.message(body.message);
      exchange.json(status, body);
    }
  }

  /**
   * Blob path as routing matched it (`routedBlobSegments`: after the mount and any global prefix, whatever
   * their case), never re-derived by searching the URL for the mount (which `/BLOBS/x/blobs/y` would fool).
   * A segment that held an encoded `/` is refused: it would name another blob than the URL shows. `null` for
   * the mount itself (`/<mount>/`).
   */
  private blobPath(exchange: HttpExchange): string | null {
    const segments = routedBlobSegments(exchange);
    if (segments === null) throw new InvalidRequestError('Blob path missing');
    if (segments.length === 0) return null;
    if (segments.some((segment) => segment.includes('/'))) {
      throw new InvalidPathError(segments.join('/'), 'a path segment holds an encoded "/"');
    }
    return validateBlobPath(segments.join('/'));
  }
}

/** The answer for a path that names no blob. */
const NOT_FOUND = { statusCode: 404, code: 'BLOB_NOT_FOUND', message: 'Blob not found' };

/** Headers common to GET and HEAD of a blob. */
function blobHeaders(info: BlobInfo): Record<string, string | number> {
  const name = info.path.split('/').pop() ?? 'blob';
  // A type stored by another writer (or before create validated it) that cannot be a header is not sent.
  const stored = info.contentType;
  const headers: Record<string, string | number> = {
    'Content-Type': stored && isHeaderSafe(stored) ? stored : 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Last-Modified': new Date(info.lastModified).toUTCString(),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "sandbox; default-src 'none'",
    'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
  };
  if (info.etag && isHeaderSafe(info.etag)) headers.ETag = info.etag;
  return headers;
}
