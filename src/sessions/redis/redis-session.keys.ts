import { hasHashTag, keySlot, REDIS_CLUSTER_SLOTS } from './redis-key-slot';

/** Bucket count the store uses on a Redis Cluster when the key prefix has no hash tag. */
export const DEFAULT_CLUSTER_BUCKETS = 16;
/** Upper bound of `buckets`: `find` reads every bucket per page, so more buckets cost more round trips. */
export const MAX_SESSION_BUCKETS = 256;

/**
 * Where a Redis session store keeps what.
 *
 * - One bucket (the default on standalone Redis and Sentinel, and whenever the prefix has a `{hash tag}`): each
 *   session is JSON at `<prefix><uploadId>`; `<prefix>#expiry` (sorted set, score = expiresAt) lets `findExpired`
 *   return sessions before their keys vanish; `<prefix>#ids` (sorted set, score 0, ordered by id) pages `find`.
 *   This is the layout of every release before buckets, so existing keys stay readable.
 * - N buckets (the default on Redis Cluster): a session lives in bucket `fnv1a(uploadId) mod N`, at
 *   `<prefix>{<tag>}:<uploadId>`, next to that bucket's own `<prefix>{<tag>}:#expiry` and `<prefix>{<tag>}:#ids`.
 *   The `{tag}` puts a bucket's keys in one Cluster slot, so each script still touches one slot, while different
 *   buckets land in different slots and therefore on different masters.
 *
 * Bucket tags are chosen so bucket `b` of `N` hashes into the `b`-th of `N` equal slot ranges: any even split of
 * the 16384 slots over up to N masters (what `redis-cli --cluster create` does) gives every master buckets.
 */
export class RedisSessionKeys {
  private readonly bucketPrefixes: string[];

  constructor(
    readonly prefix: string,
    readonly buckets = 1,
  ) {
    this.bucketPrefixes = buckets === 1 ? [prefix] : bucketTags(buckets).map((tag) => `${prefix}{${tag}}:`);
  }

  /** Bucket of an upload id: a stable hash, the same on every instance and across restarts. */
  bucketOf(uploadId: string): number {
    return this.buckets === 1 ? 0 : fnv1a(uploadId) % this.buckets;
  }

  /** Every bucket number, `0..buckets-1`. */
  bucketNumbers(): number[] {
    return Array.from({ length: this.buckets }, (_, b) => b);
  }

  /** Redis key of a session. */
  session(uploadId: string): string {
    return `${this.bucketPrefixes[this.bucketOf(uploadId)]}${uploadId}`;
  }

  /** Redis key of a session known to be in `bucket`. */
  sessionIn(bucket: number, uploadId: string): string {
    return `${this.bucketPrefixes[bucket]}${uploadId}`;
  }

  /** A bucket's sorted set of upload ids scored by `expiresAt`. */
  expiry(bucket: number): string {
    // '#' never occurs in upload ids (URL-safe base64), so index keys cannot collide with session keys.
    return `${this.bucketPrefixes[bucket]}#expiry`;
  }

  /** A bucket's sorted set of upload ids (score 0), ordered by id for paging. */
  ids(bucket: number): string {
    return `${this.bucketPrefixes[bucket]}#ids`;
  }

  /** KEYS of the scripts that change a session together with its index entries: session, expiry, ids. */
  all(uploadId: string): string[] {
    const bucket = this.bucketOf(uploadId);
    return [this.sessionIn(bucket, uploadId), this.expiry(bucket), this.ids(bucket)];
  }
}

/**
 * Bucket count from the option and the deployment: an explicit value wins; otherwise Cluster with a prefix
 * without hash tag gets `DEFAULT_CLUSTER_BUCKETS`, everything else one bucket (today's layout).
 */
export function resolveBucketCount(option: number | undefined, prefix: string, cluster: boolean): number {
  if (option !== undefined) return option;
  return cluster && !hasHashTag(prefix) ? DEFAULT_CLUSTER_BUCKETS : 1;
}

/** Problems with a `buckets` option for this prefix (empty when fine). */
export function bucketProblems(option: unknown, prefix: string): string[] {
  if (option === undefined) return [];
  if (!Number.isSafeInteger(option) || (option as number) < 1 || (option as number) > MAX_SESSION_BUCKETS) {
    return [`RedisSessionStore: buckets must be an integer from 1 to ${MAX_SESSION_BUCKETS}`];
  }
  if ((option as number) > 1 && hasHashTag(prefix)) {
    return [
      'RedisSessionStore: a keyPrefix with a {hash tag} pins every key to one slot; remove the tag to use buckets',
    ];
  }
  return [];
}

/** Tags depend on the bucket count only; computing them for 256 buckets takes a while, so once per count. */
const tagCache = new Map<number, string[]>();

function bucketTags(n: number): string[] {
  let tags = tagCache.get(n);
  if (!tags) tagCache.set(n, (tags = Array.from({ length: n }, (_, b) => bucketTag(b, n))));
  return tags;
}

/**
 * The tag of bucket `b` of `n`: `b<b>`, or `b<b>.<k>` with the smallest `k` that hashes into slot range
 * `[b·16384/n, (b+1)·16384/n)`. Deterministic, so every instance computes the same keys.
 */
function bucketTag(b: number, n: number): string {
  const from = Math.floor((b * REDIS_CLUSTER_SLOTS) / n);
  const to = Math.floor(((b + 1) * REDIS_CLUSTER_SLOTS) / n);
  for (let k = 0; k < 1_000_000; k++) {
    const tag = k === 0 ? `b${b}` : `b${b}.${k}`;
    const slot = keySlot(`{${tag}}`);
    if (slot >= from && slot < to) return tag;
  }
  return `b${b}`;
}

/** FNV-1a (32 bit) of a string's UTF-16 code units: cheap, stable and well spread for random ids. */
function fnv1a(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}
