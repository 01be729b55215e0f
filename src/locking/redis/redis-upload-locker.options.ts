import { InvalidValiBlobOptionsError } from '../../errors/vali-blob.errors';
import { DEFAULT_REDIS_TIMEOUT_MS, RedisConnectionOptions } from '../../sessions/redis/redis-connection';
import { partitionedPrefix, partitionProblems } from '../../sessions/redis/redis-partition';

/** Options of `RedisUploadLocker`. */
export interface RedisUploadLockerOptions extends RedisConnectionOptions {
  /** Prefix of lock keys and pub/sub channels (default `valiblob:lock:`). */
  keyPrefix?: string;
  /** Key segment of one app among several on this Redis: `valiblob:<partition>:lock:` (see the session store). */
  partition?: string;
  /**
   * Lease lifetime in ms (default 10 000). The holder extends it every third of that; a holder that dies (crash,
   * SIGKILL, network split) loses the upload after at most this long, then another instance can resume it.
   */
  leaseTtlMs?: number;
  /** Lifetime of the per-upload fence counter, refreshed on every acquire (default 7 days). */
  fenceTtlMs?: number;
  /** Longest pause between lock attempts while waiting (default 100 ms); a release wakes waiters at once. */
  retryIntervalMs?: number;
}

/** Locker defaults. */
export const REDIS_LOCK_DEFAULTS = {
  keyPrefix: 'valiblob:lock:',
  leaseTtlMs: 10_000,
  fenceTtlMs: 7 * 24 * 3_600_000,
  retryIntervalMs: 100,
} as const;

/** The locker's own settings with every default applied (the connection options are resolved separately). */
export interface ResolvedRedisLockSettings {
  prefix: string;
  leaseTtlMs: number;
  fenceTtlMs: number;
  retryIntervalMs: number;
  timeoutMs: number;
}

/** Apply the defaults and check the values; every problem is reported at once (`InvalidValiBlobOptionsError`). */
export function resolveRedisLockSettings(options: RedisUploadLockerOptions): ResolvedRedisLockSettings {
  const problems = partitionProblems(options.partition, 'RedisUploadLocker');
  const prefix = options.keyPrefix ?? REDIS_LOCK_DEFAULTS.keyPrefix;
  const settings: ResolvedRedisLockSettings = {
    prefix:
      problems.length > 0 || typeof prefix !== 'string' ? prefix : partitionedPrefix(prefix, options.partition, 'lock'),
    leaseTtlMs: options.leaseTtlMs ?? REDIS_LOCK_DEFAULTS.leaseTtlMs,
    fenceTtlMs: options.fenceTtlMs ?? REDIS_LOCK_DEFAULTS.fenceTtlMs,
    retryIntervalMs: options.retryIntervalMs ?? REDIS_LOCK_DEFAULTS.retryIntervalMs,
    timeoutMs: options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS,
  };
  if (typeof settings.prefix !== 'string' || settings.prefix === '') {
    problems.push('RedisUploadLocker: keyPrefix must be a non-empty string');
  }
  for (const [name, value, min] of [
    ['leaseTtlMs', settings.leaseTtlMs, 30],
    ['fenceTtlMs', settings.fenceTtlMs, 1],
    ['retryIntervalMs', settings.retryIntervalMs, 1],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < min) {
      problems.push(`RedisUploadLocker: ${name} must be an integer >= ${min} (ms)`);
    }
  }
  if (problems.length > 0) throw new InvalidValiBlobOptionsError(problems);
  return settings;
}
