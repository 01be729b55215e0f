import { Inject, Injectable } from '@nestjs/common';
import { UnsupportedInteropVersionError } from '../../errors/vali-blob.errors';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { TusDeleteHandler } from '../tus/tus-delete.handler';
import { TusGetHandler } from '../tus/tus-get.handler';
import { TusOptionsHandler } from '../tus/tus-options.handler';
import { corsHeaders, effectiveMethod } from '../tus/tus-protocol';
import type { TusRequest } from '../tus/tus-request';
import { RufhAppendHandler } from './rufh-append.handler';
import { RufhCreateHandler } from './rufh-create.handler';
import { answerRufhError } from './rufh-errors';
import { RufhOffsetHandler } from './rufh-offset.handler';
import { INTEROP_HEADER, interopVersionOf, LATEST_INTEROP_VERSION, RUFH_INTEROP_VERSIONS } from './rufh-protocol';
import type { RufhRequest } from './rufh-request';

/**
 * Routes a request that carries `Upload-Draft-Interop-Version` on the tus endpoint (tusd's model: one endpoint,
 * the protocol chosen per request) to the draft's handlers: creation (POST on the endpoint), offset retrieval
 * (HEAD), append (PATCH), cancellation (DELETE) and download (GET). Cancellation, download and OPTIONS are the tus
 * endpoint's own handlers — the engine call and the answer are the same; only the protocol headers differ.
 * An interop version this server does not speak gets the draft's answer for it: a 400 problem, no 104, never a tus
 * answer in disguise.
 */
@Injectable()
export class RufhDispatcher {
  constructor(
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
    private readonly createHandler: RufhCreateHandler,
    private readonly appendHandler: RufhAppendHandler,
    private readonly offsetHandler: RufhOffsetHandler,
    private readonly cancelHandler: TusDeleteHandler,
    private readonly downloadHandler: TusGetHandler,
    private readonly optionsHandler: TusOptionsHandler,
  ) {}

  /** Answer `request` (built by the tus controller) as the draft. */
  async dispatch(request: TusRequest, id: string | undefined): Promise<void> {
    const { exchange } = request;
    const header = exchange.header(INTEROP_HEADER) ?? '';
    const version = interopVersionOf(header);
    const ctx: RufhRequest = { ...request, version: version ?? LATEST_INTEROP_VERSION };
    try {
      Object.assign(ctx.headers, corsHeaders(this.options, exchange, false));
      ctx.method = effectiveMethod(exchange, ctx.method);
      // Discovery works whatever the version: OPTIONS announces what this endpoint speaks.
      if (ctx.method === 'OPTIONS') return this.optionsHandler.handle(ctx);
      // Offsets must never come from a cache, errors included (§4.3).
      if (ctx.method === 'HEAD') ctx.headers['Cache-Control'] = 'no-store';
      if (version === null) throw new UnsupportedInteropVersionError(header, RUFH_INTEROP_VERSIONS);
      ctx.headers['Upload-Draft-Interop-Version'] = version;
      await this.route(ctx, id);
    } catch (error) {
      answerRufhError(ctx, error, this.options);
    }
  }

  private async route(ctx: RufhRequest, id: string | undefined): Promise<void> {
    if (id === undefined) {
      if (ctx.method === 'POST') return this.createHandler.handle(ctx);
      return answerNotAllowed(ctx, this.options, 'POST, OPTIONS');
    }
    switch (ctx.method) {
      case 'HEAD':
        return this.offsetHandler.handle(ctx, id);
      case 'PATCH':
        return this.appendHandler.handle(ctx, id);
      case 'DELETE':
        return this.cancelHandler.handle(ctx, id);
      case 'GET':
        return this.downloadHandler.handle(ctx, id);
      default:
        return answerNotAllowed(ctx, this.options, 'HEAD, PATCH, DELETE, GET, OPTIONS');
    }
  }
}

/** 405 as a problem, with the methods `Allow`ed on this URL. */
function answerNotAllowed(ctx: RufhRequest, options: ResolvedValiBlobOptions, allow: string): void {
  ctx.headers.Allow = allow;
  const error = Object.assign(new Error(`Method ${ctx.method} is not allowed here`), { status: 405 });
  answerRufhError(ctx, error, options);
}
