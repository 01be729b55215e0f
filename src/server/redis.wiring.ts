import type { ServerConfig } from './server.config';
import type { ServerWiring } from './server.wiring';

/** Sessions and locks in Redis when `REDIS_URL` is set; `null` otherwise. */
export function redisWiring(config: ServerConfig): ServerWiring | null {
  if (!config.redisUrl) return null;
  throw new Error('REDIS_URL is set but the Redis session store is not wired yet');
}
