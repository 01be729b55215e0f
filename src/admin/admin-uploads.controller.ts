import { Get, Inject, Injectable, Post, Req, Res, UseFilters } from '@nestjs/common';
import { errorToBody, HttpExchange } from '../http/http-exchange';
import { assertAcceptedJsonBody } from '../http/rest/json-body';
import { ValiBlobExceptionFilter } from '../http/vali-blob-exception.filter';
import { VALIBLOB_HTTP_OPTIONS } from '../vali-blob.constants';
import type { ResolvedHttpOptions } from '../vali-blob.options';
import { authorizeAdmin } from './admin-authorize';
import { parseAdminQuery, parsePurgeBody } from './admin-http.request';
import { UploadAdminService } from './upload-admin.service';

/**
 * The admin routes (mounted at `http.admin.path` only when configured with an `authorize` hook):
 *
 * - `GET /<path>?pathPrefix=&status=&ownerId=&olderThanMs=&createdBefore=&expiresBefore=&limit=&cursor=` →
 *   200 `{ items: AdminUploadView[], nextCursor }`
 * - `POST /<path>/purge` `{ filter, mode: 'abort' | 'delete', deleteBlobs?, dryRun?, all? }` → 200 `AdminPurgeReport`
 *
 * The hook runs first on every request. Errors are the library's JSON `{ statusCode, code, message }`: 400
 * `INVALID_REQUEST` for bad values (an empty purge filter without `all: true` too), 401 `UNAUTHORIZED`.
 */
@Injectable()
@UseFilters(ValiBlobExceptionFilter)
export class AdminUploadsController {
  constructor(
    private readonly admin: UploadAdminService,
    @Inject(VALIBLOB_HTTP_OPTIONS) private readonly http: ResolvedHttpOptions,
  ) {}

  @Get()
  async list(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    const exchange = new HttpExchange(req, res);
    await this.handle(exchange, async () => {
      const page = await this.admin.find(parseAdminQuery(exchange.req.url ?? '/'));
      exchange.json(200, page, { 'Cache-Control': 'no-store' });
    });
  }

  @Post('purge')
  async purge(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    const exchange = new HttpExchange(req, res);
    await this.handle(exchange, async () => {
      assertAcceptedJsonBody(exchange);
      const { filter, options } = parsePurgeBody(exchange.parsedBody);
      exchange.json(200, await this.admin.purge(filter, options));
    });
  }

  private async handle(exchange: HttpExchange, work: () => Promise<void>): Promise<void> {
    try {
      // Never mounted without a hook (see readHttpOptions); refuse all the same if that ever changed.
      const hook = this.http.adminAuthorize ?? (() => false);
      await authorizeAdmin(hook, exchange.platformRequest);
      await work();
    } catch (error) {
      const { status, body } = errorToBody(error);
      exchange.closeIfBodyUnread();
      exchange.json(status, body);
    }
  }
}
