import { RedisScript } from '../../sessions/redis/redis-connection';

/*
 * Lua scripts of the Redis upload locker. The lock key holds the owner's random token; only that owner may
 * extend or delete it (compare-and-extend, compare-and-delete), so a holder whose lease already expired can
 * never remove a newer holder's lock.
 */

/**
 * Take the lock and hand out a fencing token. KEYS: lock, fence counter. ARGV: token, leaseTtlMs, fenceTtlMs.
 * Returns the fence as a decimal string, or nil when the lock is held.
 *
 * The fence is `max(INCR counter, Redis TIME in µs)`: strictly increasing per upload through the counter, and
 * still above every earlier fence if the counter key was lost (TTL, flush, failover) because it never falls
 * below the clock. Formatted with %.0f since Lua would print large numbers in exponent notation.
 */
export const ACQUIRE_SCRIPT = new RedisScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local fence = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
local floor = tonumber(t[1]) * 1000000 + tonumber(t[2])
if fence < floor then
  fence = floor
  redis.call('SET', KEYS[2], string.format('%.0f', fence))
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return string.format('%.0f', fence)
`);

/** Extend the lease if still owned. KEYS: lock. ARGV: token, leaseTtlMs. Returns 1 when extended, 0 when lost. */
export const EXTEND_SCRIPT = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`);

/**
 * Release if still owned, and announce it. KEYS: lock. ARGV: token, free channel. Returns 1 when deleted (and the
 * free notice published, which wakes waiters at once), 0 when it was not ours any more. One round trip: the
 * notice rides in the script instead of a PUBLISH of its own (PUBLISH takes no key, so Cluster allows it here).
 */
export const RELEASE_SCRIPT = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[1])
  return 1
end
return 0
`);
