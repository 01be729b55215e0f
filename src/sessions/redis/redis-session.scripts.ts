import { RedisScript } from './redis-connection';

/*
 * Lua scripts of the Redis session store. Every script touches the session key plus the two index sorted sets
 * (`<prefix>#expiry`, score = expiresAt; `<prefix>#ids`, score 0, ordered by id for paging), so a session and
 * its index entries always change together.
 *
 * Why scripts never re-encode a session: Redis's embedded cjson prints numbers with 14 significant digits and
 * turns `[]` into `{}` (checked on Redis 7.0: 1700000000000123 → 1.7000000000001e+15). That would corrupt
 * microsecond fencing tokens and provider part manifests. So the JavaScript side builds the new JSON and the
 * script only *reads* the stored one (decoding is exact) to check its conditions, then swaps it in.
 */

/**
 * Insert if absent. KEYS: session, expiry index, id index. ARGV: json, ttlMs, expiresAt, uploadId.
 * Returns 1 when stored, 0 when the id exists.
 */
export const SAVE_SCRIPT = new RedisScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], 0, ARGV[4])
return 1
`);

/**
 * Read and slide the key TTL. KEYS: session, expiry index. ARGV: uploadId, now, slidingMs, graceMs.
 * TTL = max(sliding, expiresAt - now) + grace, expiresAt read from the index (the JSON as a fallback).
 */
export const GET_SCRIPT = new RedisScript(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
local e = redis.call('ZSCORE', KEYS[2], ARGV[1])
if e then e = tonumber(e) else
  e = tonumber(cjson.decode(v).expiresAt) or 0
  redis.call('ZADD', KEYS[2], e, ARGV[1])
end
local ttl = math.max(tonumber(ARGV[3]), e - tonumber(ARGV[2])) + tonumber(ARGV[4])
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.max(ttl, 1)))
return v
`);

/**
 * Compare-and-set. KEYS: session, expiry index, id index.
 * ARGV: mode ('update' | 'advance'), expectedVersion, json, ttlMs, expiresAt, uploadId, expectedOffset, fence
 * ('' = unfenced).
 * Returns 1 when written; 0 when the session is missing or (advance) the offset, status or fence condition
 * fails; -1 when another write changed the version since the caller read it (the caller re-reads and retries).
 */
export const WRITE_SCRIPT = new RedisScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local s = cjson.decode(v)
if ARGV[1] == 'advance' then
  if s.uploadedBytes ~= tonumber(ARGV[7]) then return 0 end
  if s.status ~= 'Pending' and s.status ~= 'InProgress' then return 0 end
  if ARGV[8] ~= '' and (tonumber(s.fence) or 0) > tonumber(ARGV[8]) then return 0 end
end
if s.version ~= tonumber(ARGV[2]) then return -1 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
redis.call('ZADD', KEYS[3], 0, ARGV[6])
return 1
`);

/**
 * Delete a session and its index entries. KEYS: session, expiry index, id index. ARGV: uploadId,
 * expectedVersion ('' = unconditional). Returns 1 when a session was removed.
 */
export const DELETE_SCRIPT = new RedisScript(`
if ARGV[2] ~= '' then
  local v = redis.call('GET', KEYS[1])
  if not v or cjson.decode(v).version ~= tonumber(ARGV[2]) then return 0 end
end
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return n
`);

/**
 * Drop index entries whose session key Redis already expired. KEYS: expiry index, id index, then one session
 * key per id. ARGV: the ids. Re-checks EXISTS so a session saved again meanwhile keeps its entries.
 */
export const PRUNE_SCRIPT = new RedisScript(`
local n = 0
for i = 1, #ARGV do
  if redis.call('EXISTS', KEYS[i + 2]) == 0 then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('ZREM', KEYS[2], ARGV[i])
    n = n + 1
  end
end
return n
`);

/**
 * Delete sessions of one bucket that are still at the version the caller read (bulk `deleteMany` /
 * `deleteExpired`). KEYS: expiry index, id index, then one session key per id. ARGV: id1, version1, id2, …
 * Returns how many were removed; a session changed meanwhile is kept (it may no longer match).
 */
export const DELETE_VERSIONS_SCRIPT = new RedisScript(`
local n = 0
for i = 1, #KEYS - 2 do
  local id = ARGV[2 * i - 1]
  local v = redis.call('GET', KEYS[i + 2])
  if v and cjson.decode(v).version == tonumber(ARGV[2 * i]) then
    redis.call('DEL', KEYS[i + 2])
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    n = n + 1
  end
end
return n
`);
