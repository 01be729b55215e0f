import { Logger, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { uploadLog } from '../../common/upload-log';
import { StoreUnavailableError, UploadLockedError } from '../../errors/vali-blob.errors';
import {
  attachErrorLogger,
  closeRedisClient,
  escapeGlob,
  OwnedRedisClient,
  openRedisClient,
  RedisClient,
} from '../../sessions/redis/redis-connection';
import { storeCall } from '../../sessions/store-call';
import { AcquireOptions, UploadLease, UploadLocker } from '../upload-locker';
import { ACQUIRE_SCRIPT, EXTEND_SCRIPT, RELEASE_SCRIPT } from './redis-lock.scripts';
import { resolveRedisLockSettings, RedisUploadLockerOptions } from './redis-upload-locker.options';

export { REDIS_LOCK_DEFAULTS } from './redis-upload-locker.options';
export type { RedisUploadLockerOptions } from './redis-upload-locker.options';

/** A waiting contender repeats its release request this often (covers a holder that registered late). */
const REASK_INTERVAL_MS = 250;

interface HeldLock {
  uploadId: string;
  token: string;
  fence: number;
  controller: AbortController;
  onReleaseRequested?: () => void;
  releaseRequested: boolean;
  /** When the last successful extension was *sent* (conservative: the lease runs from there). */
  validFrom: number;
  heartbeat?: NodeJS.Timeout;
  done: boolean;
}

/**
 * Per-upload lock shared by every instance through Redis.
 *
 * - Acquire: `SET <prefix>{<id>} <token> NX PX <leaseTtl>` plus a fencing token from a per-upload counter, in one
 *   Lua script. The fence is `max(INCR, Redis TIME µs)`, so it keeps growing even if the counter is lost.
 * - Heartbeat every `leaseTtl / 3` with a Lua compare-and-extend; when the lease cannot be extended for a whole
 *   TTL (or another owner holds the key), `lease.signal` aborts.
 * - Release: Lua compare-and-delete (owner token) that also publishes the `<prefix>free:<id>` message waking
 *   waiters (one round trip).
 * - Release requests: a contender publishes on `<prefix>release:<id>`; every instance listens with one pattern
 *   subscription and calls `onReleaseRequested` of the **holder** it has for that upload (never the
 *   contender's own callback).
 * - Waiting is bounded by `waitMs`; then `UploadLockedError` (423, retryable by tus clients).
 *
 * Two connections: commands (borrowed or owned) and a subscriber (always owned, duplicated from the first).
 */
export class RedisUploadLocker extends UploadLocker implements OnModuleDestroy {
  private readonly logger = new Logger('ValiBlob');
  private readonly connection: OwnedRedisClient;
  private readonly prefix: string;
  private readonly leaseTtlMs: number;
  private readonly fenceTtlMs: number;
  private readonly retryIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly releaseChannelPrefix: string;
  private readonly freeChannelPrefix: string;
  private readonly held = new Map<string, HeldLock>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private subscriber?: RedisClient;
  private subscribed?: Promise<void>;
  private closed?: Promise<void>;

  constructor(options: RedisUploadLockerOptions = {}) {
    super();
    const settings = resolveRedisLockSettings(options);
    this.prefix = settings.prefix;
    this.leaseTtlMs = settings.leaseTtlMs;
    this.fenceTtlMs = settings.fenceTtlMs;
    this.retryIntervalMs = settings.retryIntervalMs;
    this.timeoutMs = settings.timeoutMs;
    this.connection = openRedisClient(options, 'RedisUploadLocker');
    this.releaseChannelPrefix = `${this.prefix}release:`;
    this.freeChannelPrefix = `${this.prefix}free:`;
  }

  /** The command connection (borrowed or owned). */
  get client(): RedisClient {
    return this.connection.client;
  }

  /** Redis key of an upload's lock; the `{id}` hash tag keeps it in one Cluster slot with its fence counter. */
  lockKey(uploadId: string): string {
    return `${this.prefix}{${uploadId}}`;
  }

  async acquire(uploadId: string, options: AcquireOptions): Promise<UploadLease> {
    if (this.closed) throw new StoreUnavailableError('The Redis upload locker is closed');
    await this.subscribe();
    const token = randomUUID();
    const deadline = Date.now() + Math.max(0, options.waitMs);
    let askedAt = 0;
    for (;;) {
      const sentAt = Date.now();
      const fence = (await this.call('lock acquire', () =>
        ACQUIRE_SCRIPT.run(
          this.client,
          [this.lockKey(uploadId), `${this.lockKey(uploadId)}:fence`],
          [token, this.leaseTtlMs, this.fenceTtlMs],
        ),
      )) as string | null;
      if (fence !== null) return this.grant(uploadId, token, Number(fence), sentAt, options);

      if (options.requestRelease && Date.now() - askedAt >= REASK_INTERVAL_MS) {
        askedAt = Date.now();
        const channel = `${this.releaseChannelPrefix}${uploadId}`;
        await this.call('lock release request', () => this.client.publish(channel, token));
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new UploadLockedError(uploadId);
      await this.waitForFree(uploadId, Math.min(remaining, this.retryIntervalMs));
    }
  }

  /** Release every lease this locker holds and close the connections it opened. Idempotent. */
  override async close(): Promise<void> {
    this.closed ??= (async () => {
      await Promise.all([...this.held.values()].map((lock) => this.release(lock)));
      for (const wake of [...this.waiters.values()].flatMap((set) => [...set])) wake();
      this.subscriber?.disconnect();
      await closeRedisClient(this.connection);
    })();
    await this.closed;
  }

  /** Nest lifecycle: release and close on application shutdown. */
  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private grant(
    uploadId: string,
    token: string,
    fence: number,
    validFrom: number,
    options: AcquireOptions,
  ): UploadLease {
    const lock: HeldLock = {
      uploadId,
      token,
      fence,
      controller: new AbortController(),
      onReleaseRequested: options.onReleaseRequested,
      releaseRequested: false,
      validFrom,
      done: false,
    };
    // A stale entry for the same upload can only be a lease this instance already lost.
    const previous = this.held.get(uploadId);
    if (previous) this.lose(previous, 'superseded');
    this.held.set(uploadId, lock);
    lock.heartbeat = setInterval(() => void this.extend(lock), Math.max(10, Math.floor(this.leaseTtlMs / 3)));
    lock.heartbeat.unref();
    return {
      fence,
      signal: lock.controller.signal,
      release: () => this.release(lock),
    };
  }

  private async extend(lock: HeldLock): Promise<void> {
    if (lock.done) return;
    const sentAt = Date.now();
    try {
      const extended = await this.call('lock extend', () =>
        EXTEND_SCRIPT.run(this.client, [this.lockKey(lock.uploadId)], [lock.token, this.leaseTtlMs]),
      );
      if (lock.done) return;
      if (extended === 1) lock.validFrom = sentAt;
      else return this.lose(lock, 'taken over or expired');
    } catch (error) {
      // Transient: keep trying until the lease runs out locally.
      const reason = (error as Error).message;
      this.logger.warn(uploadLog('RedisUploadLocker: could not extend the lease', lock, reason));
    }
    if (Date.now() - lock.validFrom >= this.leaseTtlMs) this.lose(lock, 'not extended within its TTL');
  }

  private lose(lock: HeldLock, reason: string): void {
    if (lock.done) return;
    lock.done = true;
    clearInterval(lock.heartbeat);
    if (this.held.get(lock.uploadId) === lock) this.held.delete(lock.uploadId);
    this.logger.warn(uploadLog(`RedisUploadLocker: lease of the upload lost (${reason})`, lock));
    lock.controller.abort(new Error(`Upload lock lost: ${reason}`));
  }

  private async release(lock: HeldLock): Promise<void> {
    if (lock.done) return;
    lock.done = true;
    clearInterval(lock.heartbeat);
    if (this.held.get(lock.uploadId) === lock) this.held.delete(lock.uploadId);
    try {
      // Compare-and-delete: a lease that expired meanwhile must not delete the next owner's lock. The script also
      // publishes the free notice when it deleted.
      const freeChannel = `${this.freeChannelPrefix}${lock.uploadId}`;
      await this.call('lock release', () =>
        RELEASE_SCRIPT.run(this.client, [this.lockKey(lock.uploadId)], [lock.token, freeChannel]),
      );
    } catch (error) {
      // Never fail the request that is releasing: the lease simply runs out after its TTL.
      const reason = (error as Error).message;
      this.logger.warn(uploadLog('RedisUploadLocker: release failed, the lease will expire', lock, reason));
    }
  }

  /** Resolve after `ms`, or earlier when a holder announces it let go of this upload. */
  private waitForFree(uploadId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(uploadId);
      if (!set) this.waiters.set(uploadId, (set = new Set()));
      const waiters = set;
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.waiters.get(uploadId) === waiters) this.waiters.delete(uploadId);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
    });
  }

  /** One pattern subscription per instance for release requests and free notices of every upload. */
  private subscribe(): Promise<void> {
    this.subscribed ??= (async () => {
      const subscriber = this.client.duplicate();
      this.subscriber = subscriber;
      attachErrorLogger(subscriber, 'RedisUploadLocker (subscriber)');
      subscriber.on('pmessage', (_pattern: string, channel: string, message: string) =>
        this.onMessage(channel, message),
      );
      await this.call('lock subscribe', () =>
        subscriber.psubscribe(`${escapeGlob(this.releaseChannelPrefix)}*`, `${escapeGlob(this.freeChannelPrefix)}*`),
      );
    })().catch((error) => {
      // Let the next acquire try again from scratch.
      this.subscriber?.disconnect();
      this.subscriber = undefined;
      this.subscribed = undefined;
      throw error;
    });
    return this.subscribed;
  }

  private onMessage(channel: string, message: string): void {
    if (channel.startsWith(this.releaseChannelPrefix)) {
      const lock = this.held.get(channel.slice(this.releaseChannelPrefix.length));
      // Notify the holder on this instance (if it is here); the contender's own callback is not involved.
      if (!lock || lock.done || lock.token === message || lock.releaseRequested) return;
      lock.releaseRequested = true;
      try {
        lock.onReleaseRequested?.();
      } catch (error) {
        this.logger.error(uploadLog('RedisUploadLocker: onReleaseRequested threw', lock, error));
      }
    } else if (channel.startsWith(this.freeChannelPrefix)) {
      const waiters = this.waiters.get(channel.slice(this.freeChannelPrefix.length));
      if (waiters) for (const wake of [...waiters]) wake();
    }
  }

  private call<T>(what: string, call: () => Promise<T>): Promise<T> {
    return storeCall(`Redis ${what}`, this.timeoutMs, call);
  }
}
