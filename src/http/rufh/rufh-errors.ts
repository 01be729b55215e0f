import { STATUS_CODES } from 'node:http';
import {
  ChecksumMismatchError,
  InconsistentLengthError,
  OffsetMismatchError,
  UploadCompleteError,
  UploadInterruptedError,
  UploadRejectedError,
  ValiBlobError,
} from '../../errors/vali-blob.errors';
import type { ChunkResult } from '../../uploads/resumable-upload.types';
import { ShutdownInterruptedError } from '../../uploads/write-slots';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { errorHeaders, errorToBody } from '../http-exchange';
import { endpointLimits, RUFH_PROBLEMS, uploadLimitValue } from './rufh-protocol';
import type { RufhRequest } from './rufh-request';

/** Media type of every error body on the draft (RFC 9457). */
const PROBLEM_JSON = 'application/problem+json';

/**
 * An append to an upload that is already complete, with no content (draft §4.4: the server MUST reject it; the
 * `completed-upload` problem, 400). Only the draft raises it: tus answers such a retry with its offset.
 */
export class CompletedUploadError extends ValiBlobError {
  constructor(uploadId: string) {
    super('UPLOAD_COMPLETE', `Upload ${uploadId} is already complete and cannot be appended to`, 400);
  }
}

/**
 * Answer an error as the draft does: an RFC 9457 problem with the draft's problem type where it defines one
 * (§7: `mismatching-upload-offset` with `expected-offset`/`provided-offset`, `completed-upload`,
 * `inconsistent-upload-length`), else `about:blank`; always ValiBlob's stable `code` as an extension member.
 * Statuses are the engine's, except where draft clients' retry rules decide (see docs/rufh.md).
 */
export function answerRufhError(ctx: RufhRequest, error: unknown, options: ResolvedValiBlobOptions): void {
  const { exchange } = ctx;
  const answer = errorToBody(error, exchange.upload);
  let { status } = answer;
  const headers: Record<string, string | number> = { ...ctx.headers, ...errorHeaders(error) };
  let type = 'about:blank';
  const members: Record<string, unknown> = {};
  if (error instanceof ValiBlobError) {
    if (error instanceof ShutdownInterruptedError) headers.Connection = 'close';
    if (error instanceof UploadInterruptedError) {
      // Superseded by a newer request for the upload: the client has moved on; a 4xx keeps it from retrying this
      // one (which would in turn end the newer request).
      status = 400;
      headers.Connection = 'close';
    }
    if (error instanceof OffsetMismatchError) {
      type = RUFH_PROBLEMS.mismatchingOffset;
      members['expected-offset'] = error.expectedOffset;
      members['provided-offset'] = error.details.providedOffset;
      // §4.4: the 409 MUST carry the correct offset (errorHeaders set Upload-Offset); the upload is not complete.
      headers['Upload-Complete'] = '?0';
    }
    if (error instanceof CompletedUploadError) type = RUFH_PROBLEMS.completedUpload;
    if (error instanceof InconsistentLengthError) type = RUFH_PROBLEMS.inconsistentLength;
    // 460 is tus's own status; on the draft a content digest mismatch is a plain client error.
    if (error instanceof ChecksumMismatchError) status = 400;
    // DELETE of a finished upload without `allowTerminateFinished`: 400, as on tus.
    if (error instanceof UploadCompleteError) status = 400;
    // §4.1.4: a 413 caused by the upload limits (size, quota) MUST carry Upload-Limit.
    const limit = status === 413 ? uploadLimitValue(ctx.version, endpointLimits(options)) : undefined;
    if (limit !== undefined) headers['Upload-Limit'] = limit;
    // A refusal of the complete representation (digest, policy at publish) is the processing's answer (§4.4).
    if (error instanceof UploadRejectedError && ctx.completing) headers['Upload-Complete'] = '?1';
  }
  const { statusCode: _statusCode, message, code, ...details } = answer.body;
  // Messages name stored paths (e.g. BLOB_EXISTS): show them as the client knows them.
  const detail = typeof message === 'string' ? ctx.caller.space.message(message) : message;
  exchange.closeIfBodyUnread();
  if (ctx.method === 'HEAD') return exchange.empty(status, headers);
  const problem = { type, title: STATUS_CODES[status] ?? 'Error', status, detail, code, ...details, ...members };
  exchange.json(status, problem, headers, PROBLEM_JSON);
}

/**
 * The body stopped before its end (idle timeout or reset): what arrived is stored and the upload is not complete
 * (§4.2, §4.4). 500, so a draft client resumes by retrieving the offset (its rule for 5xx), as tus clients do.
 */
export function answerRufhStalled(ctx: RufhRequest, result: ChunkResult): void {
  ctx.exchange.closeIfBodyUnread();
  const { endReason, bytesWritten } = result;
  const offset = result.session.uploadedBytes;
  const stored = `${bytesWritten} bytes were stored, resume at ${offset}`;
  const detail = `The request content stopped early (${endReason}); ${stored}`;
  const problem = { type: 'about:blank', title: STATUS_CODES[500], status: 500, detail, code: 'UPLOAD_INTERRUPTED' };
  const headers = { ...ctx.headers, 'Upload-Offset': offset, 'Upload-Complete': '?0' };
  ctx.exchange.json(500, problem, headers, PROBLEM_JSON);
}
