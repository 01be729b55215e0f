import type { StoreLocks } from '../locking/store-locks';
import type { UploadQuotaStore } from '../policy/quota/upload-quota.store';
import { isExpiredTombstone } from './session-filter';
import { SessionFilter, SessionPage, SessionPatch, TERMINAL_STATUSES, UploadSession } from './upload-session.model';

/**
 * Contract every session store implements (memory, TypeORM, Redis, or the app's own). The abstract class doubles
 * as the DI token: inject `ResumableSessionStore` to get the configured store.
 *
 * Rules every implementation keeps (the shared contract suite in `@vali-blob/nestjs/testing` checks them):
 * - returned sessions are copies; mutating them never changes the store;
 * - `advance` is an atomic compare-and-set: it applies only while `uploadedBytes === expectedOffset`, the
 *   status is `Pending` or `InProgress` and — when the patch carries a `fence` — the stored `fence` is not
 *   greater than the patch's; it bumps `version` and returns `null` when the condition fails;
 * - an unreachable backend throws `StoreUnavailableError`, never answers "not found";
 * - `save` of an id the store already holds throws `SessionAlreadyExistsError`, never a 503.
 */
export abstract class ResumableSessionStore {
  /** Insert a new session. Throws `SessionAlreadyExistsError` (409) if the id already exists. */
  abstract save(session: UploadSession): Promise<void>;
  /** The session, or `null` when unknown. */
  abstract get(uploadId: string): Promise<UploadSession | null>;
  /** Replace every field of an existing session (version is bumped); `null` when it does not exist. */
  abstract update(session: UploadSession): Promise<UploadSession | null>;
  /** Remove a session; a no-op when unknown. */
  abstract delete(uploadId: string): Promise<void>;
  /** Atomic compare-and-set on the offset; see the class comment. */
  abstract advance(uploadId: string, expectedOffset: number, patch: SessionPatch): Promise<UploadSession | null>;
  /** Page through sessions matching a filter, ordered by `uploadId`. */
  abstract find(filter: SessionFilter): Promise<SessionPage>;
  /** Delete every session matching the filter; returns how many were removed. */
  abstract deleteMany(filter: Omit<SessionFilter, 'limit' | 'cursor'>): Promise<number>;
  /** Up to `limit` sessions with `expiresAt <= now`, any status, oldest expiry first. */
  abstract findExpired(now: number, limit: number): Promise<UploadSession[]>;

  /**
   * Delete expired tombstones in bulk (seed 002's cleanup contract): every session with `expiresAt <= now`, a
   * terminal status (`Complete`, `Aborted`, `Rejected`) and no `providerState` left — nothing on the provider
   * depends on those records. Unfinished sessions and tombstones still holding provider state are left for the
   * cleanup job, which frees provider data first. Returns how many were removed.
   *
   * The built-in stores do it in one statement / script per page; this default (for custom stores) pages with
   * `find` and deletes one by one.
   */
  async deleteExpired(now: number): Promise<number> {
    let removed = 0;
    let cursor: string | undefined;
    do {
      const page = await this.find({ status: [...TERMINAL_STATUSES], expiresBefore: now, cursor, limit: 500 });
      for (const session of page.items) {
        if (!isExpiredTombstone(session, now)) continue;
        await this.delete(session.uploadId);
        removed++;
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return removed;
  }
  /** Resolves when the backend answers; throws `StoreUnavailableError` otherwise. */
  abstract ping(): Promise<void>;

  /**
   * The locks that follow this store, used when the app names none (`lock.locker`, `cleanup.lock`). A store that
   * several instances can share must return locks they share the same way (TypeORM: SQL lease table and the
   * database's cleanup lock; Redis: Redis locks). `null` — the default for custom stores — means "unknown":
   * ValiBlob then falls back to process-local locks and warns at bootstrap unless the app sets
   * `lock: { scope: 'process' }`. Called at most once per module; ValiBlob owns and closes what it returns.
   */
  createLocks(): StoreLocks | null {
    return null;
  }

  /**
   * The byte-quota store that follows this store, used when quotas are enabled and the app names no quota store:
   * usage lives in the same backend as the sessions, so every instance sharing the sessions sees the same numbers
   * (memory: in-process; TypeORM: table `valiblob_quota_entries`; Redis: keys next to the sessions). `null` — the
   * default for custom stores — means "none": the app must then configure one to use quotas.
   */
  createQuotaStore(): UploadQuotaStore | null {
    return null;
  }
}
