import { ACTIVE_STATUSES, UploadStatus } from '../../sessions/upload-session.model';
import type { ChunkResult } from '../../uploads/resumable-upload.types';
import type { UploadSessionView } from '../../uploads/upload-session.view';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { reprDigestValue } from './rufh-digest';
import { answerRufhStalled } from './rufh-errors';
import { remainingSeconds, uploadLimitValue } from './rufh-protocol';
import type { RufhRequest } from './rufh-request';

/** The state of an upload as the draft's answers report it (from a session record or a view). */
export interface RufhUploadState {
  status: UploadStatus;
  uploadedBytes: number;
  totalSize: number | null;
  /** Expiry in epoch milliseconds. */
  expiresAt: number;
}

/**
 * Headers describing an upload's state (§4.3: offset retrieval MUST send `Upload-Offset`, `Upload-Complete`,
 * `Upload-Length` when known and `Upload-Limit`; append and creation answers carry the same): `max-age` is the
 * remaining lifetime while the upload is unfinished.
 */
export function stateHeaders(
  ctx: RufhRequest,
  state: RufhUploadState,
  options: ResolvedValiBlobOptions,
): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    ...ctx.headers,
    'Upload-Offset': state.uploadedBytes,
    'Upload-Complete': state.status === UploadStatus.Complete ? '?1' : '?0',
  };
  if (state.totalSize !== null) headers['Upload-Length'] = state.totalSize;
  const active = ACTIVE_STATUSES.includes(state.status);
  const maxAge = active ? remainingSeconds(state.expiresAt) : undefined;
  const limit = uploadLimitValue(ctx.version, { maxSize: options.maxUploadSize, maxAge });
  if (limit !== undefined) headers['Upload-Limit'] = limit;
  return headers;
}

/** A session view's state for `stateHeaders`. */
export function stateOfView(view: UploadSessionView): RufhUploadState {
  return { ...view, expiresAt: Date.parse(view.expiresAt) };
}

/**
 * The answer to the request that completed an upload (§4.2, §4.4: "the response the targeted resource would have
 * generated", flagged `Upload-Complete: ?1`): 200 with the completed upload as JSON (`path` as the client knows
 * it), its offset and length, the upload URL in `Location` (tus-js-client reads it after a creation), and the
 * whole-file sha-256 as `Repr-Digest` (§10, RFC 9530) when the engine recorded one.
 */
export function answerCompleted(ctx: RufhRequest, session: UploadSessionView, options: ResolvedValiBlobOptions): void {
  const headers = stateHeaders(ctx, stateOfView(session), options);
  if (session.checksum) headers['Repr-Digest'] = reprDigestValue(session.checksum);
  ctx.exchange.json(200, ctx.caller.space.view(session), headers);
}

/**
 * The answer once a creation or append wrote its content: the completed upload (200) when this request finished
 * it, else `openStatus` (201 for a creation, 204 for an append) with the state headers; a body that ended early
 * (idle, reset) gets the interrupted answer, if its client is still there to read it.
 */
export function answerWritten(
  ctx: RufhRequest,
  result: ChunkResult,
  openStatus: 201 | 204,
  options: ResolvedValiBlobOptions,
): void {
  if (result.endReason === 'idle' || result.endReason === 'aborted') return answerRufhStalled(ctx, result);
  if (result.session.status === UploadStatus.Complete) return answerCompleted(ctx, result.session, options);
  ctx.exchange.empty(openStatus, stateHeaders(ctx, stateOfView(result.session), options));
}
