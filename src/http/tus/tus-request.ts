import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import type { HttpExchange } from '../http-exchange';
import type { RequestOwner } from '../request-owner';
import { endpointUrl } from './tus-protocol';

/**
 * Per-request state of one tus request, built by the controller and handed to the handler of its method.
 * Lives below the handlers (like `tus-headers` and `tus-errors`), so no handler imports the controller or
 * another handler.
 */
export interface TusRequest {
  exchange: HttpExchange;
  /** The method after `X-HTTP-Method-Override`. */
  method: string;
  /** Path of the endpoint itself (`/files`, with any global prefix), for `Location` and concat URLs. */
  endpointPath: string;
  /** Headers every answer carries (success or error); handlers add to them (e.g. `Location`). */
  headers: Record<string, string | number>;
  /** The caller once authorized at create (owner space for naming and error texts). */
  caller: RequestOwner;
}

/** URL of the upload `uploadId` (`Location`, concat URLs), on the endpoint URL (see `endpointUrl`). */
export function uploadUrl(options: ResolvedValiBlobOptions, ctx: TusRequest, uploadId: string): string {
  return `${endpointUrl(options, ctx.exchange, ctx.endpointPath)}/${uploadId}`;
}
