// Subpath entry `@vali-blob/nestjs/redis`: the Redis session store and upload locker. Kept out of the root entry
// so applications that do not use Redis never load `ioredis` (an optional peer dependency).
export { RedisSessionStore, REDIS_SESSION_DEFAULTS } from './sessions/redis/redis-session.store';
export type { RedisSessionStoreOptions } from './sessions/redis/redis-session.store';
export { DEFAULT_CLUSTER_BUCKETS, MAX_SESSION_BUCKETS } from './sessions/redis/redis-session.keys';
export { RedisUploadLocker, REDIS_LOCK_DEFAULTS } from './locking/redis/redis-upload.locker';
export type { RedisUploadLockerOptions } from './locking/redis/redis-upload.locker';
export { RedisQuotaStore, REDIS_QUOTA_DEFAULTS } from './policy/quota/redis-quota.store';
export type { RedisQuotaStoreOptions } from './policy/quota/redis-quota.store';
export { DEFAULT_REDIS_TIMEOUT_MS } from './sessions/redis/redis-connection';
export type {
  RedisClient,
  RedisClusterConnection,
  RedisConnection,
  RedisConnectionOptions,
} from './sessions/redis/redis-connection';
export { RedisCleanupLock } from './cleanup/locks/redis-cleanup.lock';
export type { RedisCleanupLockOptions } from './cleanup/locks/redis-cleanup.lock';
