import { RedisScript } from '../../sessions/redis/redis-connection';

/*
 * Lua scripts of `RedisQuotaStore`. Layout (see the store): `<prefix>k:<quotaKey>` is a hash holding the key's
 * totals `used` and `reserved`, `r:<uploadId>` → reserved bytes, `c:<uploadId>` → path of a committed upload and
 * `p:<path>` → `<bytes>:<uploadId>` of the committed blob at that path; `<prefix>u:<uploadId>` holds `k<quotaKey>`
 * while the upload has a reservation (release only knows the upload id).
 *
 * Every script gets KEYS = [upload key, quota hash, quota hash the upload is reserved under now] and ARGV[1] = the
 * value the caller believes the upload key holds (`''` for none). When it holds something else the script changes
 * nothing and returns that value (a string), and the caller runs it again with the right hash: every key a script
 * touches is declared, which Redis Cluster needs (the prefix's hash tag puts them in one slot).
 * Numbers travel as decimal strings; Lua only adds and compares them (doubles are exact below 2^53).
 */

const HELPERS = `
local function dropReservation(hash, id)
  local bytes = redis.call('HGET', hash, 'r:' .. id)
  if bytes then
    redis.call('HDEL', hash, 'r:' .. id)
    redis.call('HINCRBY', hash, 'reserved', -tonumber(bytes))
  end
end
local function tidy(hash)
  local extra = redis.call('HLEN', hash) - redis.call('HEXISTS', hash, 'used') - redis.call('HEXISTS', hash, 'reserved')
  if extra == 0 then redis.call('DEL', hash) end
end
local function dropBlob(hash, path)
  local entry = redis.call('HGET', hash, 'p:' .. path)
  if not entry then return nil end
  local bytes, owner = string.match(entry, '^(%d+):(.*)$')
  redis.call('HDEL', hash, 'p:' .. path)
  redis.call('HINCRBY', hash, 'used', -tonumber(bytes))
  return owner
end
`;

/** Returns the upload key's actual value (a string) when it is not ARGV[1]; otherwise runs on. */
const CHECK_UPLOAD_KEY = `
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return current or '' end
`;

/** ARGV: expected, quotaKey, uploadId, bytes, limit → 1 reserved (or already covered / committed), 0 over limit. */
export const RESERVE_SCRIPT = new RedisScript(`${HELPERS}${CHECK_UPLOAD_KEY}
local tag, id, bytes, limit = 'k' .. ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('HEXISTS', KEYS[2], 'c:' .. id) == 1 then return 1 end
local own = 0
if current == tag then own = tonumber(redis.call('HGET', KEYS[2], 'r:' .. id) or '0') end
if current == tag and own >= bytes then return 1 end
local used = tonumber(redis.call('HGET', KEYS[2], 'used') or '0')
local reserved = tonumber(redis.call('HGET', KEYS[2], 'reserved') or '0')
if used + reserved - own + bytes > limit then return 0 end
if current and current ~= tag then
  dropReservation(KEYS[3], id)
  tidy(KEYS[3])
end
redis.call('HSET', KEYS[2], 'r:' .. id, ARGV[4])
redis.call('HINCRBY', KEYS[2], 'reserved', bytes - own)
redis.call('SET', KEYS[1], tag)
return 1
`);

/** ARGV: expected, quotaKey, uploadId, path, bytes → 1. */
export const COMMIT_SCRIPT = new RedisScript(`${HELPERS}${CHECK_UPLOAD_KEY}
local id, path = ARGV[3], ARGV[4]
if current then
  dropReservation(KEYS[3], id)
  if KEYS[3] ~= KEYS[2] then tidy(KEYS[3]) end
  redis.call('DEL', KEYS[1])
end
-- A retry that names another path: the usage this upload left at the first one goes.
local before = redis.call('HGET', KEYS[2], 'c:' .. id)
if before and before ~= path then
  local entry = redis.call('HGET', KEYS[2], 'p:' .. before)
  if entry and string.match(entry, '^%d+:(.*)$') == id then dropBlob(KEYS[2], before) end
end
-- The blob at this path: this upload's own earlier commit, or one it replaced.
local owner = dropBlob(KEYS[2], path)
if owner and owner ~= id then redis.call('HDEL', KEYS[2], 'c:' .. owner) end
redis.call('HSET', KEYS[2], 'p:' .. path, ARGV[5] .. ':' .. id, 'c:' .. id, path)
redis.call('HINCRBY', KEYS[2], 'used', ARGV[5])
return 1
`);

/** ARGV: expected, uploadId → 1 (a committed upload has no reservation left, so it is a no-op for it). */
export const RELEASE_SCRIPT = new RedisScript(`${HELPERS}${CHECK_UPLOAD_KEY}
if current then
  dropReservation(KEYS[3], ARGV[2])
  tidy(KEYS[3])
  redis.call('DEL', KEYS[1])
end
return 1
`);

/** KEYS: [quota hash]; ARGV: path → 1. */
export const FORGET_BLOB_SCRIPT = new RedisScript(`${HELPERS}
local owner = dropBlob(KEYS[1], ARGV[1])
if owner then
  redis.call('HDEL', KEYS[1], 'c:' .. owner)
  tidy(KEYS[1])
end
return 1
`);
