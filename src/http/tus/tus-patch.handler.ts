import { Inject, Injectable } from '@nestjs/common';
import { ForbiddenError, UnsupportedContentTypeError } from '../../errors/vali-blob.errors';
import { ACTIVE_STATUSES } from '../../sessions/upload-session.model';
import { ResumableUploadService } from '../../uploads/resumable-upload.service';
import { concatRoleOf } from '../../uploads/upload-concatenation';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { authorizeRequest, parseNonNegativeInteger } from '../http-exchange';
import { answerStalled } from './tus-errors';
import { chunkChecksum, contentLength, mediaType } from './tus-headers';
import { httpDate, TUS_CONTENT_TYPE } from './tus-protocol';
import type { TusRequest } from './tus-request';

/**
 * tus `PATCH /files/:id`: append the body at `Upload-Offset` (streamed into the engine, never buffered), with
 * an optional `Upload-Checksum` (header or trailer) and, for a deferred length, `Upload-Length`. The chunk that
 * reaches the total completes the upload.
 */
@Injectable()
export class TusPatchHandler {
  constructor(
    private readonly uploads: ResumableUploadService,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
  ) {}

  /** 204 with the new `Upload-Offset` (and `Upload-Expires` while active); 500 when the body stalled. */
  async handle(ctx: TusRequest, id: string): Promise<void> {
    const { exchange } = ctx;
    const owner = await authorizeRequest(this.options, exchange, 'write', { uploadId: id });
    if (mediaType(exchange) !== TUS_CONTENT_TYPE) {
      throw new UnsupportedContentTypeError(exchange.header('content-type'), [TUS_CONTENT_TYPE]);
    }
    const offset = parseNonNegativeInteger(exchange.header('upload-offset'), 'Upload-Offset', 'INVALID_OFFSET');
    const lengthHeader = exchange.header('upload-length');
    const declareTotalSize =
      lengthHeader === undefined ? undefined : parseNonNegativeInteger(lengthHeader, 'Upload-Length', 'INVALID_LENGTH');
    const length = contentLength(exchange);
    const checksum = chunkChecksum(exchange, this.options.checksumAlgorithms);
    const session = await this.uploads.getSession(id, { owner });
    if (concatRoleOf(session).kind === 'final') {
      throw new ForbiddenError('A final concatenated upload cannot be patched');
    }

    const result = await this.uploads.uploadChunk({
      uploadId: id,
      offset,
      body: exchange.body,
      contentLength: length,
      checksum,
      declareTotalSize,
      owner,
      autoComplete: true,
      transport: 'tus',
    });
    if (result.endReason === 'idle' || result.endReason === 'aborted') return answerStalled(ctx, result);
    const headers: Record<string, string | number> = { ...ctx.headers, 'Upload-Offset': result.session.uploadedBytes };
    if (ACTIVE_STATUSES.includes(result.session.status)) {
      headers['Upload-Expires'] = httpDate(Date.parse(result.session.expiresAt));
    }
    exchange.empty(204, headers);
  }
}
