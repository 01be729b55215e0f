import { Logger } from '@nestjs/common';
import Redis, { Cluster, ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import { createHash } from 'node:crypto';
import { InvalidValiBlobOptionsError } from '../../errors/vali-blob.errors';
import { hasHashTag } from './redis-key-slot';

/** An ioredis client: a single node (standalone or Sentinel-managed) or a Cluster. */
export type RedisClient = Redis | Cluster;

/** Connect to a Redis Cluster (ioredis `new Cluster(nodes, options)`). */
export interface RedisClusterConnection {
  cluster: ClusterNode[];
  clusterOptions?: ClusterOptions;
}

/**
 * Where to connect: a `redis://` / `rediss://` URL, ioredis options (incl. Sentinel: `{ sentinels, name }`), or
 * `{ cluster: [...] }` for Redis Cluster.
 */
export type RedisConnection = string | RedisOptions | RedisClusterConnection;

/** Connection options shared by the Redis session store and the Redis locker. */
export interface RedisConnectionOptions {
  /** Where to connect when no `client` is given (default `redis://127.0.0.1:6379`). */
  connection?: RedisConnection;
  /**
   * Reuse an ioredis client you already have (e.g. from DI). It is never closed by ValiBlob; its own options
   * (offline queue, retries) apply, so ValiBlob only adds its own per-call timeout.
   */
  client?: RedisClient;
  /** Logical database for a connection ValiBlob creates (not with `client` or Cluster). */
  db?: number;
  /** Every Redis call that takes longer fails with `StoreUnavailableError` (default 2000 ms). */
  timeoutMs?: number;
}

/** Default per-call timeout: short, so an outage becomes a 503 quickly instead of hanging requests. */
export const DEFAULT_REDIS_TIMEOUT_MS = 2000;

/** A client plus whether ValiBlob created it (and therefore must close it). */
export interface OwnedRedisClient {
  client: RedisClient;
  owned: boolean;
}

/**
 * Open (or adopt) the client described by the options. Clients ValiBlob creates fail fast while Redis is down:
 * one reconnect attempt per command (`maxRetriesPerRequest: 1`) and a command timeout, so callers get a 503
 * within `timeoutMs` rather than a request hanging in the offline queue.
 */
export function openRedisClient(options: RedisConnectionOptions, who: string): OwnedRedisClient {
  const problems: string[] = [];
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) problems.push(`${who}: timeoutMs must be a positive integer`);
  if (options.db !== undefined && (!Number.isSafeInteger(options.db) || options.db < 0)) {
    problems.push(`${who}: db must be a non-negative integer`);
  }
  if (options.client && options.connection !== undefined) {
    problems.push(`${who}: give either client or connection, not both`);
  }
  // Switching the database of a shared client would move every other user of it too.
  if (options.client && options.db !== undefined) {
    problems.push(`${who}: db cannot be set when reusing a client (select it on that client)`);
  }
  const connection = options.connection ?? 'redis://127.0.0.1:6379';
  if (isClusterConnection(connection) && options.db !== undefined && options.db !== 0) {
    problems.push(`${who}: Redis Cluster only has database 0`);
  }
  if (problems.length > 0) throw new InvalidValiBlobOptionsError(problems);
  if (options.client) return { client: options.client, owned: false };

  const failFast: RedisOptions = {
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  };
  let client: RedisClient;
  if (isClusterConnection(connection)) {
    const clusterOptions = connection.clusterOptions ?? {};
    client = new Cluster(connection.cluster, {
      ...clusterOptions,
      redisOptions: { ...failFast, ...clusterOptions.redisOptions },
    });
  } else if (typeof connection === 'string') {
    client = new Redis(connection, { ...failFast, ...(options.db !== undefined ? { db: options.db } : {}) });
  } else {
    // Sentinel: after a failover the old master (if it is still up) answers writes with READONLY until it is
    // demoted; reconnecting asks Sentinel for the new master and resends the command (it was not executed).
    const sentinel = Array.isArray(connection.sentinels) ? { reconnectOnError: reconnectOnReadOnly } : {};
    client = new Redis({
      ...failFast,
      ...sentinel,
      ...connection,
      ...(options.db !== undefined ? { db: options.db } : {}),
    });
  }
  attachErrorLogger(client, who);
  return { client, owned: true };
}

/** ioredis `reconnectOnError`: 2 = reconnect and resend the command that got READONLY. */
function reconnectOnReadOnly(error: Error): 2 | false {
  return error.message.startsWith('READONLY') ? 2 : false;
}

/** True for a Cluster client. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/**
 * In Cluster mode every key one script touches must hash to one slot; a `{hash tag}` in the prefix guarantees it.
 */
export function requireHashTagInCluster(client: RedisClient, keyPrefix: string, who: string): void {
  if (isCluster(client) && !hasHashTag(keyPrefix)) {
    throw new InvalidValiBlobOptionsError([
      `${who}: with Redis Cluster this keyPrefix must contain a hash tag, e.g. "{valiblob}:quota:", so the keys ` +
        'one script changes live in one slot (the session store spreads sessions over buckets instead when its ' +
        'prefix has no tag and buckets is not 1)',
    ]);
  }
}

/** Log connection errors of a client ValiBlob owns (ioredis prints them to the console when nobody listens). */
export function attachErrorLogger(client: RedisClient, who: string): void {
  const logger = new Logger('ValiBlob');
  let last = 0;
  client.on('error', (error: Error) => {
    // Reconnect attempts repeat the same error; one line every 10 s is enough.
    if (Date.now() - last < 10_000) return;
    last = Date.now();
    logger.warn(`${who}: Redis connection error: ${error.message}`);
  });
}

/** Close a client if ValiBlob created it; a borrowed client is left alone. */
export async function closeRedisClient(owned: OwnedRedisClient): Promise<void> {
  if (!owned.owned) return;
  const client = owned.client;
  if (client.status === 'end') return;
  // QUIT lets in-flight replies arrive; a client that is not connected would only queue it, so cut it instead.
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}

/**
 * A Lua script run by EVALSHA, falling back to EVAL once when the server does not have it cached (restart,
 * failover, SCRIPT FLUSH). Kept separate from ioredis `defineCommand` so a borrowed client is not modified.
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Escape glob metacharacters so a key prefix is matched literally by PSUBSCRIBE / SCAN MATCH. */
export function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\^]/g, '\\$&');
}

function isClusterConnection(connection: RedisConnection): connection is RedisClusterConnection {
  return (
    typeof connection === 'object' &&
    connection !== null &&
    Array.isArray((connection as RedisClusterConnection).cluster)
  );
}
