import type { UploadRejectedError } from '../errors/policy.errors';
import type { UploadLease } from '../locking/upload-locker';
import { uploadLog } from '../common/upload-log';
import { withRejection } from '../policy/policy-metadata';
import { UploadSession, UploadStatus } from '../sessions/upload-session.model';
import type { UploadAborter } from './upload-aborter';
import { UploadEngineContext } from './upload-engine.context';
import { toSessionView } from './upload-session.view';
import { UPLOAD_EVENTS } from './upload.events';
import type { WholeFileDigestCache } from './whole-file-digest.cache';

/**
 * Ends an upload the policy refused: the session turns `Rejected` with the reason (fenced compare-and-set, under
 * the upload's lock), the staged data is freed, the quota reservation released and `upload.rejected` fires once.
 * The blob never appears. A failure to free the data leaves `providerState` in the tombstone, so cleanup frees it.
 */
export class UploadRejector {
  constructor(
    private readonly ctx: UploadEngineContext,
    private readonly digests: WholeFileDigestCache,
    private readonly aborter: UploadAborter,
  ) {}

  /** Record the rejection of `session` (read under `lease`); returns the error to answer with. */
  async reject(session: UploadSession, lease: UploadLease, error: UploadRejectedError): Promise<UploadRejectedError> {
    const { ctx } = this;
    const rejection = error.toRejection();
    const now = Date.now();
    const rejected = await ctx.storeCall(session, 'advance', () =>
      ctx.store.advance(session.uploadId, session.uploadedBytes, {
        status: UploadStatus.Rejected,
        metadata: withRejection(session.metadata, rejection),
        updatedAt: now,
        expiresAt: now + ctx.options.completedRetention,
        fence: lease.fence,
      }),
    );
    this.digests.forget(session.uploadId);
    // Lost the compare-and-set: another request ended the upload first; its outcome stands, ours is still the answer.
    if (!rejected) return error;
    await this.aborter.freeProviderData(rejected).catch((cause) => {
      ctx.logger.warn(uploadLog('Freeing the data of a rejected upload failed (cleanup retries)', session, cause));
    });
    await ctx.policy.quota.release(rejected);
    ctx.events.emit(UPLOAD_EVENTS.rejected, { session: toSessionView(rejected), rejection }, rejected.ownerId);
    ctx.telemetry.transition('rejected', rejected);
    return error;
  }
}
