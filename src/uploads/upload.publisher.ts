import {
  OffsetMismatchError,
  UploadGoneError,
  UploadIncompleteError,
  UploadRejectedError,
} from '../errors/vali-blob.errors';
import type { UploadLease } from '../locking/upload-locker';
import { UploadSession, UploadStatus } from '../sessions/upload-session.model';
import { toBlobMetadata } from '../storage/storage-helpers';
import { publishWithPolicy } from './conflict-policy';
import type { CompleteResult } from './resumable-upload.types';
import { UploadEngineContext } from './upload-engine.context';
import { expectedSha256Of, reprDigestMismatch } from './expected-digest';
import { rejectedAgain } from './upload-input';
import type { UploadRejector } from './upload-rejector';
import { toSessionView } from './upload-session.view';
import { publicMetadata } from './upload-transport';
import { UPLOAD_EVENTS } from './upload.events';
import { WholeFileDigestCache } from './whole-file-digest.cache';

/**
 * Completes uploads: once every byte is stored, the provider publishes the blob at its path under the session's
 * conflict policy, the whole-file sha256 is recorded and the session turns `Complete` (fenced compare-and-set,
 * so `upload.completed` fires once). Runs under the upload's lock, from `complete` or a chunk that auto-completes.
 */
export class UploadPublisher {
  constructor(
    private readonly ctx: UploadEngineContext,
    private readonly digests: WholeFileDigestCache,
    private readonly rejector: UploadRejector,
  ) {}

  /** Publish `session` (read under `lease`); a finished upload answers with its result again. */
  async publishLocked(session: UploadSession, lease: UploadLease): Promise<CompleteResult> {
    if (session.status === UploadStatus.Complete) return this.completedResult(session);
    if (session.status === UploadStatus.Aborted) throw new UploadGoneError(session.uploadId, 'aborted');
    if (session.status === UploadStatus.Rejected) throw rejectedAgain(session);
    if (session.expiresAt <= Date.now()) throw new UploadGoneError(session.uploadId, 'expired');
    if (session.totalSize === null || session.uploadedBytes !== session.totalSize) {
      throw new UploadIncompleteError(session.uploadedBytes, session.totalSize);
    }
    const { options, store, policy } = this.ctx;
    const provider = this.ctx.registry.get(session.provider);
    const staged = () =>
      this.ctx.providerCall(session, 'readStaged', () =>
        provider.readStaged(session.providerState ?? {}, session.totalSize!),
      );
    // The policy's last word, before anything is visible: it reads the staged bytes (scanner, hook). A digest the
    // client announced (IETF `Repr-Digest`) is checked first: bytes that do not match are never published.
    let inspected: string | undefined;
    const expected = expectedSha256Of(session);
    if ((policy.inspectsPublish || expected !== undefined) && !session.partial) {
      inspected = (await this.digests.sha256(session, staged, { always: true }))!;
      if (expected !== undefined && inspected !== expected) {
        throw await this.rejector.reject(session, lease, reprDigestMismatch(expected, inspected));
      }
      try {
        if (policy.inspectsPublish) await policy.beforePublish(session, inspected, staged);
      } catch (error) {
        if (error instanceof UploadRejectedError && error.final)
          throw await this.rejector.reject(session, lease, error);
        throw error;
      }
    }
    // BlobExistsError (policy fail, or rename out of names) leaves the session and staged data as they were.
    const { blob, path } = await this.ctx.providerCall(session, 'completeUpload', () =>
      publishWithPolicy(
        provider,
        session.providerState ?? {},
        {
          uploadId: session.uploadId,
          path: session.path,
          totalSize: session.totalSize!,
          contentType: session.contentType,
          // The library's own keys (e.g. the tus marker) stay in the session, never in the blob.
          metadata: toBlobMetadata(publicMetadata(session.metadata)),
        },
        // A store that drops the field must not turn the upload into a silent replace.
        session.conflict ?? 'fail',
      ),
    );
    const checksum =
      inspected !== undefined && this.digests.records(session)
        ? inspected
        : await this.digests.sha256(session, async () => {
            const { stream } = await this.ctx.providerCall(session, 'get', () => provider.get(path));
            return stream;
          });
    const now = Date.now();
    const completed = await this.ctx.storeCall(session, 'advance', () =>
      store.advance(session.uploadId, session.uploadedBytes, {
        path,
        status: UploadStatus.Complete,
        checksum,
        providerState: null,
        updatedAt: now,
        expiresAt: now + options.completedRetention,
        fence: lease.fence,
      }),
    );
    this.digests.forget(session.uploadId);
    if (!completed) {
      // Someone else finished it between our read and our write: answer with their result.
      const current = await this.ctx.requireSession(session.uploadId, {});
      if (current.status === UploadStatus.Complete) return this.completedResult(current);
      throw new OffsetMismatchError(current.uploadedBytes, session.uploadedBytes);
    }
    await policy.quota.commit(completed, path, completed.totalSize ?? completed.uploadedBytes);
    this.ctx.events.emit(UPLOAD_EVENTS.completed, { session: toSessionView(completed) }, completed.ownerId);
    this.ctx.telemetry.transition('completed', completed);
    return { session: toSessionView(completed), blob };
  }

  /** The result of an upload that is already complete: its view and the blob as stored now. */
  async completedResult(session: UploadSession): Promise<CompleteResult> {
    const provider = this.ctx.registry.get(session.provider);
    const blob = await this.ctx.providerCall(session, 'stat', () => provider.stat(session.path));
    return { session: toSessionView(session), blob };
  }
}
