import { Injectable } from '@nestjs/common';
import { SessionAlreadyExistsError } from '../../errors/vali-blob.errors';
import { processLocalLocks, StoreLocks } from '../../locking/store-locks';
import { MemoryQuotaStore } from '../../policy/quota/memory-quota.store';
import { ResumableSessionStore } from '../resumable-session-store';
import { decodeCursor, encodeCursor, findLimit, isExpiredTombstone, matchesSessionFilter } from '../session-filter';
import {
  ACTIVE_STATUSES,
  cloneSession,
  SessionFilter,
  SessionPage,
  SessionPatch,
  UploadSession,
} from '../upload-session.model';

/**
 * In-process session store (the default). Sessions live in a Map; every operation completes synchronously
 * inside one tick, which is what makes `advance` atomic here. Not durable and not shared between instances:
 * use the TypeORM or Redis store in production.
 *
 * No `partition` option: the sessions are this process's alone, so there is nothing to share and nothing to keep
 * apart (two apps in one process get two stores). The shared stores (TypeORM) take one.
 */
@Injectable()
export class MemorySessionStore extends ResumableSessionStore {
  private readonly sessions = new Map<string, UploadSession>();

  async save(session: UploadSession): Promise<void> {
    if (this.sessions.has(session.uploadId)) throw new SessionAlreadyExistsError(session.uploadId);
    this.sessions.set(session.uploadId, cloneSession(session));
  }

  /** Sessions live in this process only, so process-local locks are exactly right. */
  override createLocks(): StoreLocks | null {
    return processLocalLocks();
  }

  /** Quota usage in this process, like the sessions. */
  override createQuotaStore(): MemoryQuotaStore {
    return new MemoryQuotaStore();
  }

  async get(uploadId: string): Promise<UploadSession | null> {
    const session = this.sessions.get(uploadId);
    return session ? cloneSession(session) : null;
  }

  async update(session: UploadSession): Promise<UploadSession | null> {
    const current = this.sessions.get(session.uploadId);
    if (!current) return null;
    const next = cloneSession({ ...session, version: current.version + 1 });
    this.sessions.set(session.uploadId, next);
    return cloneSession(next);
  }

  async delete(uploadId: string): Promise<void> {
    this.sessions.delete(uploadId);
  }

  async advance(uploadId: string, expectedOffset: number, patch: SessionPatch): Promise<UploadSession | null> {
    const current = this.sessions.get(uploadId);
    if (!current || current.uploadedBytes !== expectedOffset || !ACTIVE_STATUSES.includes(current.status)) return null;
    if (patch.fence !== undefined && current.fence > patch.fence) return null;
    const next = cloneSession({ ...current, ...patch, version: current.version + 1 } as UploadSession);
    this.sessions.set(uploadId, next);
    return cloneSession(next);
  }

  async find(filter: SessionFilter): Promise<SessionPage> {
    const limit = findLimit(filter);
    const after = decodeCursor(filter.cursor);
    const matching = [...this.sessions.values()]
      .filter((s) => (after === undefined || s.uploadId > after) && matchesSessionFilter(s, filter))
      .sort((a, b) => (a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0));
    const items = matching.slice(0, limit).map(cloneSession);
    const nextCursor = matching.length > limit ? encodeCursor(items[items.length - 1].uploadId) : null;
    return { items, nextCursor };
  }

  async deleteMany(filter: Omit<SessionFilter, 'limit' | 'cursor'>): Promise<number> {
    let removed = 0;
    for (const [id, session] of this.sessions) {
      if (matchesSessionFilter(session, filter)) {
        this.sessions.delete(id);
        removed++;
      }
    }
    return removed;
  }

  async findExpired(now: number, limit: number): Promise<UploadSession[]> {
    return [...this.sessions.values()]
      .filter((s) => s.expiresAt <= now)
      .sort((a, b) => a.expiresAt - b.expiresAt || (a.uploadId < b.uploadId ? -1 : 1))
      .slice(0, limit)
      .map(cloneSession);
  }

  /** Expired tombstones without provider state, removed in one pass (same tick: nothing interleaves). */
  override async deleteExpired(now: number): Promise<number> {
    let removed = 0;
    for (const [id, session] of this.sessions) {
      if (isExpiredTombstone(session, now)) {
        this.sessions.delete(id);
        removed++;
      }
    }
    return removed;
  }

  async ping(): Promise<void> {
    // Always reachable: it lives in this process.
  }
}
