import { Inject, Injectable } from '@nestjs/common';
import {
  InconsistentLengthError,
  InvalidRequestError,
  UnsupportedContentTypeError,
} from '../../errors/vali-blob.errors';
import { UploadStatus } from '../../sessions/upload-session.model';
import { ResumableUploadService } from '../../uploads/resumable-upload.service';
import { concatRoleOf } from '../../uploads/upload-concatenation';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { authorizeRequest } from '../http-exchange';
import { hasBody } from '../tus/tus-headers';
import { answerWritten } from './rufh-answers';
import { RufhContentWriter } from './rufh-content.writer';
import { contentDigest } from './rufh-digest';
import { CompletedUploadError } from './rufh-errors';
import { booleanField, integerField, PARTIAL_UPLOAD_TYPE } from './rufh-protocol';
import { representationType } from './rufh-representation-type';
import { requestContent } from './rufh-request.content';
import type { RufhRequest } from './rufh-request';

/**
 * Draft upload append (§4.4): `PATCH` on the upload resource with `application/partial-upload` content at
 * `Upload-Offset`, `Upload-Complete: ?1` on the last part. Streamed into the engine like a tus PATCH; a newer
 * request for the same upload ends this one (the engine's release request, §4.6).
 */
@Injectable()
export class RufhAppendHandler {
  constructor(
    private readonly uploads: ResumableUploadService,
    private readonly content: RufhContentWriter,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
  ) {}

  /** 204 with the new offset (`?0`), or 200 with the completed upload (`?1`). */
  async handle(ctx: RufhRequest, id: string): Promise<void> {
    const { exchange } = ctx;
    const { options } = this;
    const owner = await authorizeRequest(options, exchange, 'write', { uploadId: id });
    // Interop 5 (draft -03) predates the media type; tus-js-client sends no Content-Type in that mode.
    // The type as the client sent it: a POST + X-HTTP-Method-Override was relabelled on Fastify (see there).
    if (ctx.version >= 6 && representationType(exchange).media !== PARTIAL_UPLOAD_TYPE) {
      throw new UnsupportedContentTypeError(exchange.header('content-type'), [PARTIAL_UPLOAD_TYPE]);
    }
    const offset = integerField(exchange, 'upload-offset');
    if (offset === undefined) {
      throw new InvalidRequestError('Upload-Offset must be a non-negative Structured Integer', 'INVALID_OFFSET');
    }
    const complete = booleanField(exchange, 'upload-complete');
    if (complete === undefined) {
      throw new InvalidRequestError('An append needs Upload-Complete: ?0 or ?1 (a Structured Boolean)');
    }
    ctx.completing = complete;
    const { body, length } = requestContent(exchange);
    const declaredLength = integerField(exchange, 'upload-length');
    const checksum = contentDigest(exchange, options.checksumAlgorithms);
    const session = await this.uploads.getSession(id, { owner });
    // tus concatenation results are built, not appended to (as on the tus side).
    if (concatRoleOf(session).kind === 'final') throw new CompletedUploadError(id);
    if (session.status === UploadStatus.Complete) {
      // §4.4: a completed upload MUST NOT be modified; content is an inconsistent length, none a completed upload.
      if (hasBody(exchange)) throw new InconsistentLengthError(`Upload ${id} is complete; no content can follow`);
      throw new CompletedUploadError(id);
    }
    const result = await this.content.write(ctx, {
      uploadId: id,
      owner,
      offset,
      recordedLength: session.totalSize,
      recordedOffset: session.uploadedBytes,
      declaredLength,
      complete,
      contentLength: length,
      checksum,
      body,
    });
    answerWritten(ctx, result, 204, options);
  }
}
