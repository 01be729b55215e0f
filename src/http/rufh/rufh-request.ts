import type { TusRequest } from '../tus/tus-request';

/**
 * Per-request state of one request answered as the IETF resumable-upload draft. It is a `TusRequest` (same
 * endpoint, same `Location` building, same shared handlers for GET and DELETE) plus the interop version the
 * client named, which picks the dialect (`Upload-Limit` keys, PATCH media type).
 */
export interface RufhRequest extends TusRequest {
  /** The request's `Upload-Draft-Interop-Version` (one of `RUFH_INTEROP_VERSIONS`). */
  version: number;
  /** The request carries `Upload-Complete: ?1`: its answer is the processing's once all content arrived. */
  completing?: boolean;
}
