import { Inject, Injectable } from '@nestjs/common';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { corsHeaders, TUS_METHODS, TUS_VERSIONS, tusExtensions } from './tus-protocol';
import type { TusRequest } from './tus-request';
import {
  endpointLimits,
  INTEROP_HEADER,
  interopVersionOf,
  LATEST_INTEROP_VERSION,
  PARTIAL_UPLOAD_TYPE,
  uploadLimitValue,
} from '../rufh/rufh-protocol';

/** tus `OPTIONS`: the endpoint's capabilities (and the CORS preflight), on the endpoint and on upload URLs. */
@Injectable()
export class TusOptionsHandler {
  constructor(@Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions) {}

  /** 204 (or 200 with `tus.optionsStatus200`) with the capabilities; no `Tus-Resumable` (spec). */
  handle(ctx: TusRequest): void {
    const { options } = this;
    const headers: Record<string, string | number> = {
      ...corsHeaders(options, ctx.exchange, true),
      'Tus-Version': TUS_VERSIONS.join(','),
      'Tus-Extension': tusExtensions(options).join(','),
      'Tus-Max-Size': options.maxUploadSize,
      Allow: TUS_METHODS.join(', '),
    };
    if (options.checksumAlgorithms.length > 0) headers['Tus-Checksum-Algorithm'] = options.checksumAlgorithms.join(',');
    if (options.tus.ietfDraft) {
      // The IETF draft on the same endpoint: OPTIONS MUST name its media type in Accept-Patch and SHOULD announce
      // the limits (§4.1.4), in the dialect of the interop version asked about (the latest when none is named).
      headers['Accept-Patch'] = PARTIAL_UPLOAD_TYPE;
      const asked = ctx.exchange.header(INTEROP_HEADER);
      const version = (asked === undefined ? null : interopVersionOf(asked)) ?? LATEST_INTEROP_VERSION;
      const limit = uploadLimitValue(version, endpointLimits(options));
      if (limit !== undefined) headers['Upload-Limit'] = limit;
    }
    const status = options.tus.optionsStatus200 ? 200 : 204;
    if (status === 200) headers['Content-Length'] = 0;
    ctx.exchange.empty(status, headers);
  }
}
