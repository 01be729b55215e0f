import { Inject, Injectable } from '@nestjs/common';
import { ResumableUploadService } from '../../uploads/resumable-upload.service';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { authorizeRequest } from '../http-exchange';
import type { TusRequest } from './tus-request';

/** tus `DELETE /files/:id` (termination extension): abort the upload and free its data. */
@Injectable()
export class TusDeleteHandler {
  constructor(
    private readonly uploads: ResumableUploadService,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
  ) {}

  /** 204; a finished upload only with `tus.allowTerminateFinished` (else 400, see `answerError`). */
  async handle(ctx: TusRequest, id: string): Promise<void> {
    const { exchange } = ctx;
    const owner = await authorizeRequest(this.options, exchange, 'abort', { uploadId: id });
    const allowFinished = this.options.tus.allowTerminateFinished;
    await this.uploads.abort(id, { owner, allowFinished, transport: 'tus' });
    exchange.closeIfBodyUnread();
    exchange.empty(204, ctx.headers);
  }
}
