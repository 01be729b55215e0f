import { UploadInterruptedError, ValiBlobError } from '../../errors/vali-blob.errors';
import type { ChunkResult } from '../../uploads/resumable-upload.types';
import { ShutdownInterruptedError } from '../../uploads/write-slots';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { errorHeaders, errorToBody } from '../http-exchange';
import type { TusRequest } from './tus-request';
import { TUS_VERSIONS } from './tus-protocol';

/**
 * Map an error to the tus status (see docs/tus.md); the body is JSON with a stable `code` (none on HEAD).
 * Where tus differs from the engine's status, what tus clients retry decides: tus-js-client retries 5xx, 409 and
 * 423, never another 4xx.
 */
export function answerError(ctx: TusRequest, error: unknown, options: ResolvedValiBlobOptions): void {
  const { exchange } = ctx;
  let { status, body } = errorToBody(error, exchange.upload);
  const headers: Record<string, string | number> = { ...ctx.headers, ...errorHeaders(error) };
  if (error instanceof ValiBlobError) {
    // Shutdown: 503 + Retry-After (tus clients retry it); the client reconnects, to the restarted server or another.
    if (error instanceof ShutdownInterruptedError) headers.Connection = 'close';
    if (error instanceof UploadInterruptedError) {
      // A newer request took over: the stored prefix is kept. 400, not the engine's 409, because tus clients
      // retry 409: the superseded request must stop (as tusd and @tus/server answer), not take the upload back.
      status = 400;
      headers.Connection = 'close';
    }
    // DELETE of a finished upload without `allowTerminateFinished`: 400, as @tus/server answers it.
    if (error.code === 'UPLOAD_COMPLETE') status = 400;
    if (error.code === 'SIZE_EXCEEDED') headers['Tus-Max-Size'] = options.maxUploadSize;
    body = { ...body, statusCode: status };
  }
  // Messages name stored paths (e.g. BLOB_EXISTS): show them as the client knows them.
  if (typeof body.message === 'string') body.message = ctx.caller.space.message(body.message);
  exchange.closeIfBodyUnread();
  if (ctx.method === 'HEAD') return exchange.empty(status, headers);
  exchange.json(status, body, headers);
}

/**
 * The body stopped before its end (idle timeout or reset). What arrived is stored and the offset shows it;
 * answer 500 on purpose (as tusd does) because tus clients retry 5xx with HEAD + PATCH.
 */
export function answerStalled(ctx: TusRequest, result: ChunkResult): void {
  ctx.exchange.closeIfBodyUnread();
  const { endReason, bytesWritten } = result;
  ctx.exchange.json(
    500,
    {
      statusCode: 500,
      code: 'UPLOAD_INTERRUPTED',
      message: `The request body stopped early (${endReason}); ${bytesWritten} bytes were stored, resume at the offset`,
      expectedOffset: result.session.uploadedBytes,
    },
    { ...ctx.headers, 'Upload-Offset': result.session.uploadedBytes },
  );
}

/** 412 with `Tus-Version`, and nothing processed. */
export function answerVersionMismatch(ctx: TusRequest): void {
  ctx.exchange.closeIfBodyUnread();
  ctx.exchange.json(
    412,
    { statusCode: 412, code: 'INVALID_REQUEST', message: `Tus-Resumable must be ${TUS_VERSIONS.join(' or ')}` },
    { ...ctx.headers, 'Tus-Version': TUS_VERSIONS.join(',') },
  );
}

/** 405 with the methods `Allow`ed on this URL. */
export function answerMethodNotAllowed(ctx: TusRequest, allow: string): void {
  ctx.exchange.closeIfBodyUnread();
  const body = { statusCode: 405, code: 'INVALID_REQUEST', message: `Method ${ctx.method} is not allowed here` };
  ctx.exchange.json(405, body, { ...ctx.headers, Allow: allow });
}
