import type { RedisSessionStoreOptions } from '../redis';
// No ioredis behind this import: the server without Redis must not load it.
import { partitionProblem } from '../sessions/session-partition';
import type { ServerConfig } from './server.config';
import type { ServerWiring } from './server.wiring';

/** A `host:port` list entry. */
interface HostPort {
  host: string;
  port: number;
}

/**
 * Sessions and locks in Redis when `REDIS_URL`, `REDIS_CLUSTER` or `REDIS_SENTINELS` is set; `null` otherwise
 * (then `DATABASE_URL` decides).
 *
 * Where Redis is (exactly one of):
 * - `REDIS_URL`: one node, `redis://[:password@]host:port[/db]`;
 * - `REDIS_CLUSTER=host:port,host:port,…`: seed nodes of a Redis Cluster (sessions spread over 16 slot buckets);
 * - `REDIS_SENTINELS=host:port,…` with `REDIS_SENTINEL_NAME=<master name>`: a Sentinel-managed master.
 *
 * Optional tuning (read here only, documented in docs/redis.md):
 * - `REDIS_KEY_PREFIX` (default `valiblob:`): sessions under `<prefix>session:`, locks under `<prefix>lock:`;
 * - `REDIS_PARTITION`: a key segment (`<prefix><partition>:session:`, …) so several apps share one Redis;
 * - `REDIS_LOCK_TTL_MS` (default 10 000): lease TTL, i.e. how long an upload stays locked after its holder
 *   died before another instance can resume it.
 */
export function redisWiring(config: ServerConfig, env: NodeJS.ProcessEnv = process.env): ServerWiring | null {
  const cluster = env.REDIS_CLUSTER || '';
  const sentinels = env.REDIS_SENTINELS || '';
  if (!config.redisUrl && !cluster && !sentinels) return null;
  const problems: string[] = [];
  if ([config.redisUrl, cluster, sentinels].filter(Boolean).length > 1) {
    problems.push('set only one of REDIS_URL, REDIS_CLUSTER, REDIS_SENTINELS');
  }
  const prefix = env.REDIS_KEY_PREFIX || 'valiblob:';
  const leaseTtlMs = env.REDIS_LOCK_TTL_MS ? Number(env.REDIS_LOCK_TTL_MS) : undefined;
  if (leaseTtlMs !== undefined && (!Number.isSafeInteger(leaseTtlMs) || leaseTtlMs < 30)) {
    problems.push('REDIS_LOCK_TTL_MS must be an integer >= 30 (ms)');
  }
  const name = env.REDIS_SENTINEL_NAME || '';
  if (sentinels && !name) problems.push('REDIS_SENTINELS needs REDIS_SENTINEL_NAME (the monitored master name)');
  const partition = env.REDIS_PARTITION || undefined;
  const partitionIssue = partitionProblem('REDIS_PARTITION', partition);
  if (partitionIssue !== null) problems.push(partitionIssue);
  const clusterNodes = cluster ? parseHostPorts('REDIS_CLUSTER', cluster, problems) : [];
  const sentinelNodes = sentinels ? parseHostPorts('REDIS_SENTINELS', sentinels, problems) : [];
  if (problems.length > 0) throw new Error(`Invalid server environment:\n - ${problems.join('\n - ')}`);

  let connection: RedisSessionStoreOptions['connection'];
  let where: string;
  if (cluster) {
    connection = { cluster: clusterNodes };
    where = `Redis Cluster at ${cluster}`;
  } else if (sentinels) {
    connection = { sentinels: sentinelNodes, name };
    where = `Redis Sentinel master "${name}" via ${sentinels}`;
  } else {
    connection = config.redisUrl!;
    where = config.redisUrl!.replace(/\/\/[^@/]*@/, '//***@');
  }
  // Loaded only when Redis is configured, so the server without Redis never requires ioredis.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer (ioredis) loaded lazily
  const { RedisSessionStore } = require('../redis') as typeof import('../redis');
  const options: RedisSessionStoreOptions = {
    connection,
    keyPrefix: `${prefix}session:`,
    partition,
    lock: { leaseTtlMs },
  };
  return {
    imports: [],
    // A factory: Nest owns the store and calls its onModuleDestroy (closing the connection) on shutdown. The
    // upload lock (`<prefix>lock:`) and the cleanup lock (`<prefix>cleanup-lock`) follow the store.
    sessionStore: { useFactory: () => new RedisSessionStore(options) },
    description:
      `Redis sessions and locks at ${where} (prefix ${prefix}` + (partition ? `, partition ${partition})` : ')'),
  };
}

function parseHostPorts(name: string, value: string, problems: string[]): HostPort[] {
  const nodes: HostPort[] = [];
  for (const entry of value.split(',').map((part) => part.trim())) {
    const match = /^([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(entry);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) {
      problems.push(`${name} must be a comma-separated list of host:port (got "${entry}")`);
      continue;
    }
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  return nodes;
}
