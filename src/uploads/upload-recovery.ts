import { Injectable } from '@nestjs/common';
import { ACTIVE_STATUSES, UploadSession } from '../sessions/upload-session.model';
import { ResumableUploadService } from './resumable-upload.service';
import type { UploadSessionRecord } from './resumable-upload.types';
import { createdByTus } from './upload-transport';

/**
 * Crash recovery of uploads whose completion died, as an engine operation: every byte is stored but the
 * server died while publishing. Used by the tus HEAD, because a tus client that sees
 * `Upload-Offset == Upload-Length` sends nothing more and would otherwise wait forever.
 */
@Injectable()
export class UploadRecovery {
  constructor(private readonly uploads: ResumableUploadService) {}

  /**
   * The session of `uploadId` (as `owner` may see it), first completed when every byte is stored but the
   * completion did not finish (idempotent, under the upload's lock, like any `complete`). Only for uploads
   * created through tus: a REST upload is published when its own client calls complete, never here.
   */
  async finishIfStored(uploadId: string, owner: string | null): Promise<UploadSessionRecord> {
    // A client asking is alive: its expiry slides (see `readForClient`).
    const session = await this.uploads.readForClient(uploadId, { owner });
    if (!createdByTus(session) || !storedButUnfinished(session)) return session;
    // Only a tus HEAD gets here: labelled as the tus call it is.
    await this.uploads.complete(uploadId, { owner, transport: 'tus' });
    return this.uploads.getSession(uploadId, { owner });
  }
}

/** Active, unexpired, and holding all of its (known) bytes. */
function storedButUnfinished(
  session: Pick<UploadSession, 'status' | 'totalSize' | 'uploadedBytes' | 'expiresAt'>,
): boolean {
  return (
    ACTIVE_STATUSES.includes(session.status) &&
    session.totalSize !== null &&
    session.uploadedBytes === session.totalSize &&
    session.expiresAt > Date.now()
  );
}
