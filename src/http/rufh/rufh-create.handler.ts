import { Inject, Injectable } from '@nestjs/common';
import { InvalidRequestError } from '../../errors/vali-blob.errors';
import { withExpectedSha256 } from '../../uploads/expected-digest';
import { ResumableUploadService } from '../../uploads/resumable-upload.service';
import { assertNoReservedMetadata, markCreatedBy } from '../../uploads/upload-transport';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { hasBody } from '../tus/tus-headers';
import { endpointUploadPath } from '../tus/tus-naming';
import { uploadUrl } from '../tus/tus-request';
import { answerWritten } from './rufh-answers';
import { indicatedLength, RufhContentWriter } from './rufh-content.writer';
import { requestContent } from './rufh-request.content';
import { contentDigest, reprDigestSha256 } from './rufh-digest';
import { sendUploadResumption } from './rufh-interim';
import { representationOf } from './rufh-metadata';
import { booleanField, integerField, remainingSeconds, uploadLimitValue } from './rufh-protocol';
import type { RufhRequest } from './rufh-request';

/**
 * Draft upload creation (§4.2): a `POST` to the endpoint with `Upload-Complete`. The upload resource is created
 * through the engine (authorize, policy `onCreate`, owner scope, naming as for tus), announced in a
 * `104 (Upload Resumption Supported)` with its `Location`, and the request content is stored as its first bytes.
 * `Upload-Complete: ?1` with the whole content completes it in this one request (optimistic creation); `?0`
 * answers 201 and the client appends (careful creation, or a first part).
 */
@Injectable()
export class RufhCreateHandler {
  constructor(
    private readonly uploads: ResumableUploadService,
    private readonly content: RufhContentWriter,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
  ) {}

  /** 201 with `Location` (`?0`), or 200 with the completed upload (`?1`). */
  async handle(ctx: RufhRequest): Promise<void> {
    const { exchange } = ctx;
    const { options } = this;
    const complete = booleanField(exchange, 'upload-complete');
    if (complete === undefined) {
      throw new InvalidRequestError('Creating an upload needs Upload-Complete: ?0 or ?1 (a Structured Boolean)');
    }
    ctx.completing = complete;
    const conflict = options.tus.conflict;
    const owner = await ctx.caller.authorize('create', { conflict, overwrite: conflict === 'overwrite' });
    // Everything the client sent is validated before an upload exists, so a refused request leaves nothing behind.
    const { body, length } = requestContent(exchange);
    const declaredLength = integerField(exchange, 'upload-length');
    // Known up front, the length reaches the policy's onCreate and the size limits before anything is stored.
    const totalSize = indicatedLength({
      offset: 0,
      complete,
      contentLength: length,
      declaredLength,
      recordedLength: null,
    });
    const checksum = contentDigest(exchange, options.checksumAlgorithms);
    const reprSha256 = reprDigestSha256(exchange);
    const { metadata, contentType } = representationOf(exchange, options);
    assertNoReservedMetadata(metadata);
    let stored = markCreatedBy(metadata, 'rufh');
    if (reprSha256 !== undefined) stored = withExpectedSha256(stored, reprSha256);
    const withBody = hasBody(exchange);
    // Past the write cap (or during shutdown) refuse before a session exists, so a retry does not leave one behind.
    if (withBody) this.uploads.assertWriteCapacity();

    const session = await this.uploads.start({
      owner,
      totalSize,
      contentType,
      metadata: stored,
      conflict,
      transport: 'rufh',
      pathFor: (uploadId) => endpointUploadPath(options, ctx.caller, exchange, uploadId, metadata),
    });
    // From here on every answer, error or not, names the upload resource so the client can resume (§4.2).
    ctx.headers.Location = uploadUrl(options, ctx, session.uploadId);
    if (options.tus.ietfInterimResponses) {
      const interim: Record<string, string | number> = { Location: ctx.headers.Location };
      const limit = uploadLimitValue(ctx.version, {
        maxSize: options.maxUploadSize,
        maxAge: remainingSeconds(Date.parse(session.expiresAt)),
      });
      if (limit !== undefined) interim['Upload-Limit'] = limit;
      interim['Upload-Draft-Interop-Version'] = ctx.version;
      sendUploadResumption(exchange, interim);
    }
    const result = await this.content.write(ctx, {
      uploadId: session.uploadId,
      owner,
      offset: 0,
      recordedLength: totalSize,
      recordedOffset: 0,
      declaredLength,
      complete,
      contentLength: length,
      checksum,
      body,
    });
    answerWritten(ctx, result, 201, options);
  }
}
