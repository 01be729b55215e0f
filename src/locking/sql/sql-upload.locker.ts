import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { uploadLog } from '../../common/upload-log';
import { UploadLockedError } from '../../errors/vali-blob.errors';
import { storeCall } from '../../sessions/store-call';
import { AcquireOptions, UploadLease, UploadLocker } from '../upload-locker';
import type { SqlUploadLockerOptions } from './sql-upload-locker.options';
import { LockTaking, takeLock } from './sql-upload-lock.take';
import { UploadLockEntity } from './upload-lock.entity';

export type { SqlUploadLockerOptions } from './sql-upload-locker.options';

interface HeldLease {
  uploadId: string;
  token: string;
  fence: number;
  /** Local view of when the lease lapses; the holder stops trusting it after this even if the DB is unreachable. */
  expiresAt: number;
  controller: AbortController;
  onReleaseRequested?: () => void;
  releaseNotified: boolean;
  heartbeat: NodeJS.Timeout;
}

/**
 * Upload lock shared by every instance that uses the same database (SQLite file or PostgreSQL), on the
 * `valiblob_upload_locks` table (`UploadLockEntity`, created by `VALIBLOB_MIGRATIONS`).
 *
 * - Acquire is one INSERT … ON CONFLICT DO UPDATE … WHERE (`owner IS NULL OR expires_at <= now`) RETURNING
 *   fence where the database has `RETURNING` (PostgreSQL, SQLite ≥ 3.35); elsewhere a conditional UPDATE or, for
 *   a first lock, an INSERT … ON CONFLICT DO NOTHING, then a read. Whoever's token ends up in the row holds the
 *   lock. Contenders poll until `waitMs` and then get `UploadLockedError` (423).
 * - The lease lasts `ttlMs` and the holder extends it every `heartbeatMs`; when an extension finds another
 *   owner (or the lease lapsed while the database was unreachable) `lease.signal` aborts.
 * - Release is compare-and-release on the owner token, so a former holder can never free a newer holder's lock.
 * - `fence` = max(previous fence + 1, now in µs), computed in the UPDATE itself: it grows across holders,
 *   instances and restarts, and the session store refuses offset writes carrying an older fence.
 * - A contender with `requestRelease` stamps `release_requested_at`; holders poll for it every `releasePollMs`
 *   and call their `onReleaseRequested` once (tus: a newer request for the same upload wins).
 *
 * The locker does not own the DataSource. Rows stay after release (that keeps the fence); `pruneReleased`
 * removes long-idle ones.
 */
@Injectable()
export class SqlUploadLocker extends UploadLocker {
  private readonly logger = new Logger('ValiBlob');
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly releasePollMs: number;
  private readonly timeoutMs: number;
  private readonly held = new Map<string, HeldLease>();
  private releasePoller: NodeJS.Timeout | null = null;
  private polling = false;
  /** What the acquire statements need (`takeLock`). */
  private readonly taking: LockTaking;

  constructor(
    private readonly dataSource: DataSource,
    options: SqlUploadLockerOptions = {},
  ) {
    super();
    this.ttlMs = options.ttlMs ?? 30_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.floor(this.ttlMs / 3));
    this.pollMs = options.pollMs ?? 50;
    this.releasePollMs = options.releasePollMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.taking = { dataSource, ttlMs: this.ttlMs, query: (what, call) => this.query(what, call) };
  }

  async acquire(uploadId: string, options: AcquireOptions): Promise<UploadLease> {
    const token = randomBytes(16).toString('hex');
    const deadline = Date.now() + Math.max(0, options.waitMs);
    let releaseAsked = false;
    for (;;) {
      const fence = await takeLock(this.taking, uploadId, token);
      if (fence !== null) return this.hold(uploadId, token, fence, options.onReleaseRequested);
      if (options.requestRelease && !releaseAsked) {
        await this.requestRelease(uploadId);
        releaseAsked = true;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new UploadLockedError(uploadId);
      await sleep(Math.min(left, this.pollMs + Math.floor(Math.random() * this.pollMs)));
    }
  }

  override async close(): Promise<void> {
    await Promise.all([...this.held.values()].map((lease) => this.release(lease)));
  }

  /** Delete lock rows idle (released or lapsed) for longer than `olderThanMs`; returns how many went. */
  async pruneReleased(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const result = await this.query('prune', () =>
      this.dataSource
        .createQueryBuilder()
        .delete()
        .from(UploadLockEntity)
        .where('expires_at < :cutoff', { cutoff })
        .execute(),
    );
    return result.affected ?? 0;
  }

  /** Ask whoever holds the lock to let go (only the first request per holder stamps the row). */
  private async requestRelease(uploadId: string): Promise<void> {
    await this.query('requestRelease', () =>
      this.dataSource
        .createQueryBuilder()
        .update(UploadLockEntity)
        .set({ releaseRequestedAt: Date.now() })
        .where('upload_id = :uploadId', { uploadId })
        .andWhere('owner IS NOT NULL')
        .andWhere('release_requested_at IS NULL')
        .execute(),
    );
  }

  private hold(uploadId: string, token: string, fence: number, onReleaseRequested?: () => void): UploadLease {
    const lease: HeldLease = {
      uploadId,
      token,
      fence,
      expiresAt: Date.now() + this.ttlMs,
      controller: new AbortController(),
      onReleaseRequested,
      releaseNotified: false,
      heartbeat: setInterval(() => void this.extend(lease), this.heartbeatMs),
    };
    lease.heartbeat.unref();
    this.held.set(token, lease);
    if (onReleaseRequested) this.startReleasePoller();
    let released = false;
    return {
      fence,
      signal: lease.controller.signal,
      release: async () => {
        if (released) return;
        released = true;
        await this.release(lease);
      },
    };
  }

  /** Heartbeat: extend the lease while the row still carries our token. */
  private async extend(lease: HeldLease): Promise<void> {
    if (!this.held.has(lease.token)) return;
    const now = Date.now();
    try {
      const result = await this.query('heartbeat', () =>
        this.dataSource
          .createQueryBuilder()
          .update(UploadLockEntity)
          .set({ expiresAt: now + this.ttlMs })
          .where('upload_id = :uploadId', { uploadId: lease.uploadId })
          .andWhere('owner = :token', { token: lease.token })
          .execute(),
      );
      if (result.affected === 1) lease.expiresAt = now + this.ttlMs;
      else this.lose(lease, 'taken over or expired');
    } catch (error) {
      // Unreachable database: keep trying, but once our lease may have lapsed another instance can hold it.
      if (Date.now() >= lease.expiresAt) this.lose(lease, `could not extend: ${(error as Error).message}`);
    }
  }

  private lose(lease: HeldLease, reason: string): void {
    if (!this.held.delete(lease.token)) return;
    clearInterval(lease.heartbeat);
    this.logger.warn(uploadLog(`Lost the lock of the upload (${reason})`, lease));
    lease.controller.abort(new UploadLockedError(lease.uploadId));
  }

  /** Compare-and-release: frees the row only if it still carries our token; keeps `fence` for the next holder. */
  private async release(lease: HeldLease): Promise<void> {
    if (!this.held.delete(lease.token)) return;
    clearInterval(lease.heartbeat);
    try {
      await this.query('release', () =>
        this.dataSource
          .createQueryBuilder()
          .update(UploadLockEntity)
          .set({ owner: null, expiresAt: Date.now(), releaseRequestedAt: null })
          .where('upload_id = :uploadId', { uploadId: lease.uploadId })
          .andWhere('owner = :token', { token: lease.token })
          .execute(),
      );
    } catch (error) {
      // Not fatal: the lease lapses after ttlMs. Throwing here would hide the caller's own outcome.
      this.logger.warn(uploadLog('Could not release the lock of the upload', lease, (error as Error).message));
    }
  }

  /** One poller per locker (not per lease): a single query covers every held lease still listening. */
  private startReleasePoller(): void {
    if (this.releasePoller) return;
    this.releasePoller = setInterval(() => void this.pollReleaseRequests(), this.releasePollMs);
    this.releasePoller.unref();
  }

  private async pollReleaseRequests(): Promise<void> {
    const listening = [...this.held.values()].filter((l) => l.onReleaseRequested && !l.releaseNotified);
    if (listening.length === 0) {
      clearInterval(this.releasePoller!);
      this.releasePoller = null;
      return;
    }
    if (this.polling) return;
    this.polling = true;
    try {
      const rows = await this.query('releasePoll', () =>
        this.dataSource
          .getRepository(UploadLockEntity)
          .createQueryBuilder('l')
          .select(['l.owner'])
          .where('owner IN (:...tokens)', { tokens: listening.map((l) => l.token) })
          .andWhere('release_requested_at IS NOT NULL')
          .getMany(),
      );
      for (const row of rows) {
        const lease = this.held.get(row.owner!);
        if (!lease || lease.releaseNotified) continue;
        lease.releaseNotified = true;
        try {
          lease.onReleaseRequested?.();
        } catch (error) {
          this.logger.error(uploadLog('onReleaseRequested threw', lease, (error as Error).message));
        }
      }
    } catch {
      // Transient: the next tick retries; the heartbeat decides about lease loss.
    } finally {
      this.polling = false;
    }
  }

  private query<T>(what: string, call: () => Promise<T>): Promise<T> {
    return storeCall(`session store lock ${what}`, this.timeoutMs, call);
  }
}
