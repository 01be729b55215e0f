import { Logger } from '@nestjs/common';
import { uploadLog } from '../../common/upload-log';
import { NotSupportedError } from '../../errors/bootstrap.errors';
import { QuotaExceededError } from '../../errors/policy.errors';
import { InvalidRequestError } from '../../errors/request.errors';
import { storeCall } from '../../sessions/store-call';
import type { UploadSession } from '../../sessions/upload-session.model';
import { QUOTA_METADATA_KEY } from '../policy-metadata';
import { limitFor, ResolvedQuota } from '../resolved-upload-policy';
import type { UploadSubject } from '../upload-policy.interfaces';
import type { QuotaUsage } from './upload-quota.store';

/** What `reserve` passes to the store as "no limit" (usage is still counted). */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

/**
 * Byte quotas: reserve at create (declared size, or the bytes streamed so far while the length is deferred),
 * commit at complete, release on abort, rejection and expiry, forget on delete through the library. Inject it to
 * read usage (`usage(key)`, `usageOf(subject)`). Backed by the session store's database (`UploadQuotaStore`).
 * @publicApi
 */
export class UploadQuotaService {
  private readonly logger = new Logger('ValiBlob');

  constructor(
    private readonly quota: ResolvedQuota | null,
    private readonly storeTimeoutMs: number,
  ) {}

  /** Whether quotas are configured (`policy.quota`). */
  get enabled(): boolean {
    return this.quota !== null;
  }

  /** The quota key of a subject (`policy.quota.key`, default the owner id or `*`). */
  keyOf(subject: UploadSubject): string {
    return this.require().key(subject);
  }

  /** Current usage of a quota key. `NotSupportedError` when no quota is configured. */
  async usage(key: string): Promise<QuotaUsage> {
    if (typeof key !== 'string' || key === '') throw new InvalidRequestError('quota key must be a non-empty string');
    const quota = this.require();
    return this.call('usage', () => quota.store.usage(key));
  }

  /** Usage of the key a subject's uploads count against. */
  async usageOf(subject: UploadSubject): Promise<QuotaUsage> {
    return this.usage(this.keyOf(subject));
  }

  /**
   * Hold `bytes` for a new upload; returns the metadata to store with the session (its quota key), or nothing
   * when quotas are off. Throws `QuotaExceededError` (413) when the key's limit would be passed.
   */
  async reserve(subject: UploadSubject, uploadId: string, bytes: number): Promise<Record<string, string>> {
    if (!this.quota) return {};
    const key = this.quota.key(subject);
    await this.hold(key, subject, uploadId, bytes);
    return { [QUOTA_METADATA_KEY]: key };
  }

  /** Grow the reservation of a deferred-length upload to `bytes` (before they are committed); 413 when over. */
  async grow(session: UploadSession, subject: UploadSubject, bytes: number): Promise<void> {
    const key = session.metadata[QUOTA_METADATA_KEY];
    if (!this.quota || key === undefined) return;
    await this.hold(key, subject, session.uploadId, bytes);
  }

  /** The upload completed at `path` with `bytes`: count them as used. Logged, never thrown (the blob exists). */
  async commit(session: UploadSession, path: string, bytes: number): Promise<void> {
    const key = session.metadata[QUOTA_METADATA_KEY];
    if (!this.quota || key === undefined) return;
    const store = this.quota.store;
    await this.call('commit', () => store.commit(key, session.uploadId, path, bytes)).catch((error) =>
      this.logger.error(uploadLog('Quota commit failed', session, (error as Error).message)),
    );
  }

  /** Drop an unfinished upload's reservation. Logged, never thrown: the upload's own outcome stands. */
  async release(session: Pick<UploadSession, 'uploadId' | 'metadata'> & { ownerId?: string | null }): Promise<void> {
    if (!this.quota || session.metadata[QUOTA_METADATA_KEY] === undefined) return;
    const store = this.quota.store;
    await this.call('release', () => store.release(session.uploadId)).catch((error) =>
      this.logger.error(uploadLog('Quota release failed', session, (error as Error).message)),
    );
  }

  /**
   * A blob was deleted through the library: its bytes no longer count. `key` is the one its upload recorded, when
   * known; otherwise the subject's.
   */
  async forgetBlob(subject: UploadSubject, recordedKey?: string): Promise<void> {
    if (!this.quota) return;
    const store = this.quota.store;
    const key = recordedKey ?? this.quota.key(subject);
    await this.call('forgetBlob', () => store.forgetBlob(key, subject.path)).catch((error) =>
      this.logger.error(
        uploadLog(`Quota release of ${subject.path} failed`, { ownerId: subject.owner }, (error as Error).message),
      ),
    );
  }

  private async hold(key: string, subject: UploadSubject, uploadId: string, bytes: number): Promise<void> {
    const store = this.require().store;
    const limit = (await limitFor(this.require().maxBytes, subject)) ?? UNLIMITED;
    const ok = await this.call('reserve', () => store.reserve(key, uploadId, bytes, limit));
    if (!ok) throw new QuotaExceededError(key, limit);
  }

  private require(): ResolvedQuota {
    if (!this.quota) throw new NotSupportedError('quota usage', 'this module (no policy.quota configured)');
    return this.quota;
  }

  /** Store calls under the store's time limit: an outage is a 503, never a silent pass. */
  private call<T>(what: string, call: () => Promise<T>): Promise<T> {
    return storeCall(`quota store ${what}`, this.storeTimeoutMs, call);
  }
}
