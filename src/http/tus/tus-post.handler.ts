import { Inject, Injectable } from '@nestjs/common';
import { InvalidRequestError } from '../../errors/vali-blob.errors';
import { ACTIVE_STATUSES } from '../../sessions/upload-session.model';
import { ResumableUploadService } from '../../uploads/resumable-upload.service';
import { FinalUploadBase, UploadConcatenator } from '../../uploads/upload-concatenation';
import { assertNoReservedMetadata, markCreatedBy } from '../../uploads/upload-transport';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { HttpExchange, parseNonNegativeInteger } from '../http-exchange';
import { answerStalled } from './tus-errors';
import { chunkChecksum, contentLength, hasBody, mediaType } from './tus-headers';
import { metadataContentType, parseTusMetadata } from './tus-metadata';
import { endpointUploadPath } from './tus-naming';
import { httpDate, parseUploadConcat, TUS_CONTENT_TYPE } from './tus-protocol';
import { TusRequest, uploadUrl } from './tus-request';

/**
 * tus `POST /files`: create an upload (creation), with its first bytes in the body (creation-with-upload),
 * without a length yet (creation-defer-length), as a partial, or as the final upload of completed partials
 * (concatenation, built by the engine's `UploadConcatenator` before the answer).
 */
@Injectable()
export class TusPostHandler {
  constructor(
    private readonly uploads: ResumableUploadService,
    private readonly concatenator: UploadConcatenator,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
  ) {}

  /** 201 with `Location` (and `Upload-Offset` when a body or a final upload was stored). */
  async handle(ctx: TusRequest): Promise<void> {
    const { exchange } = ctx;
    const concat = parseUploadConcat(exchange.header('upload-concat'));
    const conflict = this.options.tus.conflict;
    const owner = await ctx.caller.authorize('create', {
      conflict,
      overwrite: conflict === 'overwrite',
      partials: concat.kind === 'final' ? concat.ids : undefined,
    });
    const metadata = parseTusMetadata(exchange.header('upload-metadata'), this.options.tus.maxMetadataSize);
    assertNoReservedMetadata(metadata);
    const base: FinalUploadBase = {
      owner,
      // Marked as created through tus: only such uploads may be finished by a HEAD (see UploadRecovery).
      metadata: markCreatedBy(metadata, 'tus'),
      contentType: metadataContentType(metadata),
      pathFor: (uploadId: string) => endpointUploadPath(this.options, ctx.caller, exchange, uploadId, metadata),
      conflict,
    };

    if (concat.kind === 'final') {
      if (exchange.header('upload-length') !== undefined || exchange.header('upload-defer-length') !== undefined) {
        const message = 'A final concatenated upload takes no Upload-Length: it is the sum of its partials';
        throw new InvalidRequestError(message);
      }
      const final = await this.concatenator.concatenate(concat.ids, base);
      exchange.closeIfBodyUnread();
      const location = uploadUrl(this.options, ctx, final.uploadId);
      return exchange.empty(201, { ...ctx.headers, Location: location, 'Upload-Offset': final.uploadedBytes });
    }
    return this.create(ctx, base, concat.kind === 'partial');
  }

  /** An ordinary or partial upload: length or deferred length, and maybe the first bytes in the body. */
  private async create(ctx: TusRequest, base: FinalUploadBase, partial: boolean): Promise<void> {
    const { exchange } = ctx;
    const totalSize = declaredLength(exchange);
    // creation-with-upload: the body counts only with the tus content type; validate it before creating anything.
    const withBody = hasBody(exchange) && mediaType(exchange) === TUS_CONTENT_TYPE;
    const length = withBody ? contentLength(exchange) : null;
    const checksum = withBody ? chunkChecksum(exchange, this.options.checksumAlgorithms) : undefined;
    // Past the write cap (or during shutdown) refuse before a session exists, so a retry does not leave one behind.
    if (withBody) this.uploads.assertWriteCapacity();

    const session = await this.uploads.start({ ...base, totalSize, partial, autoComplete: true });
    // From here on every answer, error or not, tells the client where its upload lives so it can resume.
    ctx.headers.Location = uploadUrl(this.options, ctx, session.uploadId);
    let { uploadedBytes: offset, status } = session;
    let expiresAt = Date.parse(session.expiresAt);
    if (withBody) {
      const result = await this.uploads.uploadChunk({
        uploadId: session.uploadId,
        offset: 0,
        body: exchange.body,
        contentLength: length,
        checksum,
        owner: base.owner,
        autoComplete: true,
        transport: 'tus',
      });
      ({ uploadedBytes: offset, status } = result.session);
      expiresAt = Date.parse(result.session.expiresAt);
      if (result.endReason === 'idle') return answerStalled(ctx, result);
    } else {
      exchange.closeIfBodyUnread();
    }
    const headers: Record<string, string | number> = { ...ctx.headers };
    if (ACTIVE_STATUSES.includes(status)) headers['Upload-Expires'] = httpDate(expiresAt);
    if (withBody) headers['Upload-Offset'] = offset;
    exchange.empty(201, headers);
  }
}

/** `Upload-Length`, or `null` for `Upload-Defer-Length: 1`; exactly one of them (400 `INVALID_LENGTH`). */
function declaredLength(exchange: HttpExchange): number | null {
  const lengthHeader = exchange.header('upload-length');
  const deferHeader = exchange.header('upload-defer-length');
  if (lengthHeader !== undefined && deferHeader !== undefined) {
    throw new InvalidRequestError('Send either Upload-Length or Upload-Defer-Length, not both', 'INVALID_LENGTH');
  }
  if (lengthHeader !== undefined) return parseNonNegativeInteger(lengthHeader, 'Upload-Length', 'INVALID_LENGTH');
  if (deferHeader === undefined) {
    throw new InvalidRequestError('Upload-Length or Upload-Defer-Length is required', 'INVALID_LENGTH');
  }
  if (deferHeader.trim() !== '1') throw new InvalidRequestError('Upload-Defer-Length must be 1', 'INVALID_LENGTH');
  return null;
}
