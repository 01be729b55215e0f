import type { ServerConfig } from './server.config';
import type { ServerWiring } from './server.wiring';

/**
 * Sessions and locks in Redis when `REDIS_URL` is set; `null` otherwise (then `DATABASE_URL` decides).
 *
 * Optional tuning (read here only, documented in docs/redis.md):
 * - `REDIS_KEY_PREFIX` (default `valiblob:`): sessions under `<prefix>session:`, locks under `<prefix>lock:`;
 *   several deployments sharing one Redis need different prefixes.
 * - `REDIS_LOCK_TTL_MS` (default 10 000): lease TTL, i.e. how long an upload stays locked after its holder
 *   died before another instance can resume it.
 */
export function redisWiring(config: ServerConfig, env: NodeJS.ProcessEnv = process.env): ServerWiring | null {
  if (!config.redisUrl) return null;
  const url = config.redisUrl;
  const prefix = env.REDIS_KEY_PREFIX || 'valiblob:';
  const leaseTtlMs = env.REDIS_LOCK_TTL_MS ? Number(env.REDIS_LOCK_TTL_MS) : undefined;
  if (leaseTtlMs !== undefined && (!Number.isSafeInteger(leaseTtlMs) || leaseTtlMs < 30)) {
    throw new Error('Invalid server environment:\n - REDIS_LOCK_TTL_MS must be an integer >= 30 (ms)');
  }
  // Loaded only when Redis is configured, so the server without REDIS_URL never requires ioredis.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer (ioredis) loaded lazily
  const { RedisSessionStore } = require('../redis') as typeof import('../redis');
  return {
    imports: [],
    // A factory: Nest owns the store and calls its onModuleDestroy (closing the connection) on shutdown. The
    // upload lock (`<prefix>lock:`) and the cleanup lock (`<prefix>cleanup-lock`) follow the store.
    sessionStore: {
      useFactory: () =>
        new RedisSessionStore({ connection: url, keyPrefix: `${prefix}session:`, lock: { leaseTtlMs } }),
    },
    description: `Redis sessions and locks at ${url.replace(/\/\/[^@/]*@/, '//***@')} (prefix ${prefix})`,
  };
}
