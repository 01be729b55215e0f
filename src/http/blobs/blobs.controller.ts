import { Get, Head, Inject, Injectable, Req, Res } from '@nestjs/common';
import { InvalidPathError, InvalidRequestError } from '../../errors/vali-blob.errors';
import { validateBlobPath } from '../../storage/blob-path';
import { StorageRegistry } from '../../storage/storage.registry';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { respondWithDownload } from '../download.responder';
import { errorToBody, HttpExchange } from '../http-exchange';
import { RequestOwner } from '../request-owner';
import { routedBlobSegments } from './blob-route';

/**
 * Blob read route (mounted at `http.blobs.path` when configured; the wildcard route path per platform comes
 * from `markBlobMount`/`routeBlobMounts`): `GET /<path>/*` streams a blob of the
 * default provider with single-range support (206 / 416), `HEAD` answers the same headers without a body.
 * Answers come from the one download responder (`respondWithDownload`, shared with tus `GET`): attachments with
 * `nosniff` and a sandbox CSP, so uploaded HTML cannot run on this origin.
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
      // Awaited inside the try: a failure while sending headers is answered here, not by the framework.
      return await respondWithDownload(exchange, { provider, path, info, headOnly });
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
