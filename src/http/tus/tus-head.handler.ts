import { Inject, Injectable } from '@nestjs/common';
import { ACTIVE_STATUSES, UploadStatus } from '../../sessions/upload-session.model';
import { assertStatusReadable } from '../../uploads/upload-input';
import { concatRoleOf } from '../../uploads/upload-concatenation';
import { UploadRecovery } from '../../uploads/upload-recovery';
import { VALIBLOB_OPTIONS } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import { authorizeRequest } from '../http-exchange';
import { formatTusMetadata } from './tus-metadata';
import { httpDate } from './tus-protocol';
import { TusRequest, uploadUrl } from './tus-request';

/** tus `HEAD /files/:id`: offset, length, metadata, concatenation and expiry of an upload. */
@Injectable()
export class TusHeadHandler {
  constructor(
    private readonly recovery: UploadRecovery,
    @Inject(VALIBLOB_OPTIONS) private readonly options: ResolvedValiBlobOptions,
  ) {}

  /** 200 with the upload's state; 410 once aborted or expired unfinished. */
  async handle(ctx: TusRequest, id: string): Promise<void> {
    const owner = await authorizeRequest(this.options, ctx.exchange, 'status', { uploadId: id });
    // A tus client that sees Upload-Offset == Upload-Length sends nothing more: an upload whose completion
    // died (every byte stored) is finished here, or it never would be (tus-created uploads only).
    const session = await this.recovery.finishIfStored(id, owner);
    assertStatusReadable(session);
    const active = ACTIVE_STATUSES.includes(session.status);
    const headers: Record<string, string | number> = { ...ctx.headers };
    const role = concatRoleOf(session);
    // A final upload reports its offset only once it is done (spec); ours are built before POST answers.
    const complete = session.status === UploadStatus.Complete;
    if (role.kind !== 'final' || complete) headers['Upload-Offset'] = session.uploadedBytes;
    if (session.totalSize === null) headers['Upload-Defer-Length'] = 1;
    else headers['Upload-Length'] = session.totalSize;
    const metadata = formatTusMetadata(session.metadata);
    if (metadata !== '') headers['Upload-Metadata'] = metadata;
    if (role.kind === 'partial') headers['Upload-Concat'] = 'partial';
    if (role.kind === 'final') {
      headers['Upload-Concat'] = `final;${role.ids.map((partId) => uploadUrl(this.options, ctx, partId)).join(' ')}`;
    }
    if (active) headers['Upload-Expires'] = httpDate(session.expiresAt);
    ctx.exchange.empty(200, headers);
  }
}
