import type { RedisUploadLockerOptions } from '../../locking/redis/redis-upload-locker.options';
import type { RedisQuotaStoreOptions } from '../../policy/quota/redis-quota.store';
import type { RedisConnectionOptions } from './redis-connection';

/** Options of `RedisSessionStore`. */
export interface RedisSessionStoreOptions extends RedisConnectionOptions {
  /**
   * Prefix of every key (default `valiblob:session:`). On Redis Cluster leave hash tags out: sessions are then
   * spread over `buckets` slots. A prefix with a `{hash tag}` pins every session and index to one slot (one
   * master carries all session traffic) and implies one bucket.
   */
  keyPrefix?: string;
  /**
   * Several apps sharing one Redis without seeing each other's sessions: a key segment inserted into every prefix
   * (`valiblob:<partition>:session:`, `…:lock:`, `…:quota:`, `…:cleanup-lock`). 1-64 characters of
   * `A-Z a-z 0-9 _ . -`. Changing it makes earlier sessions invisible.
   */
  partition?: string;
  /**
   * Spread sessions over this many index buckets, each its own `{hash tag}` (slot) with its own indexes
   * (1-256). Default: 16 on Redis Cluster (unless the prefix has a hash tag), else 1 — the single-index layout
   * of earlier releases, so existing keys stay readable. Changing it on a store with sessions hides them.
   */
  buckets?: number;
  /** Sliding key TTL in ms, reset on every get and write (default 24 h). */
  slidingExpiration?: number;
  /**
   * Extra key lifetime past a session's `expiresAt` (default 1 h), so cleanup still finds an expired session in
   * the expiry index and frees its provider-side data before Redis drops the key.
   */
  expiryGraceMs?: number;
  /**
   * Options of the `RedisUploadLocker` that `createLocks()` makes on this store's client (lease TTL, …). Its key
   * prefix defaults to the store's with a trailing `session:` replaced by `lock:` (`valiblob:lock:`); the store's
   * `partition` applies to it either way.
   */
  lock?: Omit<RedisUploadLockerOptions, 'client' | 'connection' | 'db' | 'partition'>;
  /**
   * Options of the `RedisQuotaStore` that `createQuotaStore()` makes on this store's client. Its key prefix
   * defaults to the store's with a trailing `session:` replaced by `quota:` (`valiblob:quota:`, `{vb}:quota:`;
   * on a Cluster without hash tag `{valiblob:quota}:`); the store's `partition` applies to it either way.
   */
  quota?: Omit<RedisQuotaStoreOptions, 'partition'>;
}

/** Store defaults. */
export const REDIS_SESSION_DEFAULTS = {
  keyPrefix: 'valiblob:session:',
  slidingExpiration: 24 * 3_600_000,
  expiryGraceMs: 3_600_000,
} as const;
