import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../sessions/redis/redis-connection';
import { CleanupLock, CleanupLockHandle, cleanupLockHandle } from '../cleanup-lock';

/** Options of `RedisCleanupLock`. */
export interface RedisCleanupLockOptions {
  /** Key of the lock (default `valiblob:cleanup-lock`). */
  key?: string;
  /** Lease length; renewed every third of it while the run lasts (default 30 000 ms). */
  ttlMs?: number;
}

/** Delete the key only while it still holds our token (never another holder's lease). */
const RELEASE_SCRIPT =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** Extend the lease only while it still holds our token. */
const EXTEND_SCRIPT =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/**
 * Cleanup lock on Redis: `SET key token NX PX ttl`, a heartbeat that extends the lease with compare-and-pexpire,
 * and a compare-and-delete release, so a holder whose lease ran out can never delete a newer holder's lock.
 * When the lease is lost (taken over, or Redis unreachable for a whole TTL) the handle's signal aborts and the
 * sweep stops at the next session. The client is the app's; this lock never disconnects it.
 */
export class RedisCleanupLock extends CleanupLock {
  private readonly key: string;
  private readonly ttlMs: number;

  constructor(
    // A Cluster client works too: every command here names the one lock key.
    private readonly redis: RedisClient,
    options: RedisCleanupLockOptions = {},
  ) {
    super();
    this.key = options.key ?? 'valiblob:cleanup-lock';
    this.ttlMs = options.ttlMs ?? 30_000;
    if (!Number.isSafeInteger(this.ttlMs) || this.ttlMs < 1000) {
      throw new RangeError('RedisCleanupLock ttlMs must be an integer >= 1000');
    }
  }

  async tryAcquire(): Promise<CleanupLockHandle | null> {
    const token = randomBytes(16).toString('base64url');
    const ok = await this.redis.set(this.key, token, 'PX', this.ttlMs, 'NX');
    if (ok !== 'OK') return null;

    const controller = new AbortController();
    let validUntil = Date.now() + this.ttlMs;
    const heartbeat = setInterval(
      () => {
        this.redis
          .eval(EXTEND_SCRIPT, 1, this.key, token, String(this.ttlMs))
          .then((result) => {
            if (Number(result) === 1) validUntil = Date.now() + this.ttlMs;
            else controller.abort(new Error('Redis cleanup lock was taken over'));
          })
          .catch(() => {
            // Unreachable for now; the lease may still be ours until it would have expired.
            if (Date.now() >= validUntil) controller.abort(new Error('Redis cleanup lock lease expired'));
          });
      },
      Math.floor(this.ttlMs / 3),
    );
    heartbeat.unref();
    controller.signal.addEventListener('abort', () => clearInterval(heartbeat), { once: true });

    return cleanupLockHandle(controller.signal, async () => {
      clearInterval(heartbeat);
      await this.redis.eval(RELEASE_SCRIPT, 1, this.key, token).catch(() => undefined);
    });
  }
}
