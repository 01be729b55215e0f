import { OffsetMismatchError, UploadCompleteError, UploadGoneError } from '../errors/vali-blob.errors';
import { QUOTA_METADATA_KEY } from '../policy/policy-metadata';
import { ACTIVE_STATUSES, UploadSession, UploadStatus } from '../sessions/upload-session.model';
import type { CallerContext } from './resumable-upload.types';
import { UploadEngineContext } from './upload-engine.context';
import { toSessionView, UploadSessionView } from './upload-session.view';
import { UPLOAD_EVENTS } from './upload.events';
import type { WholeFileDigestCache } from './whole-file-digest.cache';

/**
 * Ends uploads on request: abort of an unfinished upload (tombstone first, then its provider data is freed and its
 * quota released), or — with `allowFinished` — deletion of a finished one's blob. Also frees the provider data of
 * sessions cleanup removes.
 */
export class UploadAborter {
  constructor(
    private readonly ctx: UploadEngineContext,
    private readonly digests: WholeFileDigestCache,
  ) {}

  /** Abort an unfinished upload and free its provider-side data. The session stays as a tombstone. */
  async abort(uploadId: string, caller: CallerContext & { allowFinished?: boolean } = {}): Promise<UploadSessionView> {
    await this.ctx.requireSession(uploadId, caller);
    const lease = await this.ctx.acquire(uploadId, 'abort');
    try {
      for (let attempt = 0; ; attempt++) {
        const session = await this.ctx.requireSession(uploadId, caller);
        if (session.status === UploadStatus.Aborted) throw new UploadGoneError(uploadId, 'aborted');
        // Already ended by the policy (its data freed): nothing left to abort.
        if (session.status === UploadStatus.Rejected) throw new UploadGoneError(uploadId, 'rejected');
        if (session.status === UploadStatus.Complete) {
          if (!caller.allowFinished) throw new UploadCompleteError(uploadId);
          return await this.deleteFinished(session);
        }
        const aborted = await this.abortLocked(session, lease.fence);
        if (!aborted) {
          if (attempt < 3) continue;
          throw new OffsetMismatchError(session.uploadedBytes, session.uploadedBytes);
        }
        return toSessionView(aborted);
      }
    } finally {
      await lease.release();
    }
  }

  /**
   * Abort an unfinished `session` read under the caller's lease (`fence`): the Aborted tombstone first, then its
   * quota released, provider data freed and `upload.aborted` fired (once: only the compare-and-set winner gets
   * here). `null` when the session moved on under the compare-and-set (the caller re-reads and decides again).
   */
  async abortLocked(session: UploadSession, fence: number): Promise<UploadSession | null> {
    const { uploadId } = session;
    const now = Date.now();
    // Mark aborted first, keeping providerState, so a failure to free the data leaves a tombstone that
    // cleanup can still free; then free it and clear the state.
    const aborted = await this.ctx.storeCall(session, 'advance', () =>
      this.ctx.store.advance(uploadId, session.uploadedBytes, {
        status: UploadStatus.Aborted,
        updatedAt: now,
        expiresAt: now + this.ctx.options.completedRetention,
        fence,
      }),
    );
    if (!aborted) return null;
    this.digests.forget(uploadId);
    await this.ctx.policy.quota.release(aborted);
    await this.freeProviderData(aborted);
    this.announceAborted(aborted);
    return aborted;
  }

  /**
   * Remove a session record for good, freeing first what it would orphan: an unfinished or aborted session's
   * provider data is freed BEFORE the record goes (once it is gone nothing knows the parts exist), then the
   * record is deleted and an unfinished one's quota reservation released. A completed upload's blob is left
   * alone (see `deleteFinished`). The caller holds the upload lock and read `session` under it. Answers whether
   * provider data was freed (cleanup counts those).
   */
  async remove(session: UploadSession): Promise<boolean> {
    const freeing = session.providerState !== null && session.status !== UploadStatus.Complete;
    if (freeing) await this.freeProviderData(session);
    await this.ctx.storeCall(session, 'delete', () => this.ctx.store.delete(session.uploadId));
    this.digests.forget(session.uploadId);
    if (ACTIVE_STATUSES.includes(session.status)) await this.ctx.policy.quota.release(session);
    return freeing;
  }

  /**
   * Free the provider-side data of a session and clear its `providerState` (used by abort and cleanup).
   * Errors propagate so callers can count them; the state is kept until freeing succeeded.
   */
  async freeProviderData(session: UploadSession): Promise<void> {
    if (!session.providerState) return;
    const provider = this.ctx.registry.get(session.provider);
    await this.ctx.providerCall(session, 'abortUpload', () => provider.abortUpload(session.providerState!));
    const cleared = { ...session, providerState: null, updatedAt: Date.now() };
    await this.ctx.storeCall(session, 'update', () => this.ctx.store.update(cleared));
  }

  /**
   * Delete a completed upload's blob (whatever is at its path now), forget its quota usage and turn the session
   * into an Aborted tombstone; fires `upload.aborted`.
   */
  async deleteFinished(session: UploadSession): Promise<UploadSessionView> {
    const provider = this.ctx.registry.get(session.provider);
    await this.ctx.providerCall(session, 'delete', () => provider.delete(session.path));
    await this.ctx.policy.quota.forgetBlob(this.ctx.policy.subjectOf(session), session.metadata[QUOTA_METADATA_KEY]);
    const now = Date.now();
    const tombstone = {
      ...session,
      status: UploadStatus.Aborted,
      updatedAt: now,
      expiresAt: now + this.ctx.options.completedRetention,
    };
    const updated = await this.ctx.storeCall(session, 'update', () => this.ctx.store.update(tombstone));
    return this.announceAborted(updated ?? session);
  }

  /** `upload.aborted` and its metric, once per upload: only the caller whose state change won calls this. */
  announceAborted(session: UploadSession): UploadSessionView {
    const view = toSessionView(session);
    this.ctx.events.emit(UPLOAD_EVENTS.aborted, { session: view }, session.ownerId);
    this.ctx.telemetry.transition('aborted', session);
    return view;
  }
}
