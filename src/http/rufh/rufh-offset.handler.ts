import { Inject, Injectable } from '@nestjs/common';
import { ResumableUploadService } from '../../uploads/resumable-upload.service';
import { assertStatusReadable } from '../../uploads/upload-input';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { authorizeRequest } from '../http-exchange';
import { stateHeaders } from './rufh-answers';
import type { RufhRequest } from './rufh-request';

/**
 * Draft offset retrieval (§4.3): `HEAD` on the upload resource. It first ends a creation or append still in flight
 * for the upload (§4.6, through the engine's request-release model across instances), so the offset it reports is
 * the one the next append is accepted at — never an outdated one. 204 with the state headers and
 * `Cache-Control: no-store`; 410 once the upload was cancelled or expired unfinished.
 */
@Injectable()
export class RufhOffsetHandler {
  constructor(
    private readonly uploads: ResumableUploadService,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
  ) {}

  /** 204 with `Upload-Offset`, `Upload-Complete`, `Upload-Length` (when known) and `Upload-Limit`. */
  async handle(ctx: RufhRequest, id: string): Promise<void> {
    const owner = await authorizeRequest(this.options, ctx.exchange, 'status', { uploadId: id });
    const session = await this.uploads.readForClient(id, { owner, transport: 'rufh' }, true);
    assertStatusReadable(session);
    ctx.exchange.empty(204, stateHeaders(ctx, session, this.options));
  }
}
