import { InvalidValiBlobOptionsError, StoreUnavailableError } from '../../errors/vali-blob.errors';
import {
  DEFAULT_REDIS_TIMEOUT_MS,
  RedisClient,
  RedisScript,
  requireHashTagInCluster,
} from '../../sessions/redis/redis-connection';
import { partitionedPrefix, partitionProblems } from '../../sessions/redis/redis-partition';
import { storeCall } from '../../sessions/store-call';
import { assertQuotaBytes } from './quota-arguments';
import { COMMIT_SCRIPT, FORGET_BLOB_SCRIPT, RELEASE_SCRIPT, RESERVE_SCRIPT } from './redis-quota.scripts';
import { QuotaUsage, UploadQuotaStore } from './upload-quota.store';

/** Options of `RedisQuotaStore`. */
export interface RedisQuotaStoreOptions {
  /**
   * Prefix of every key (default `valiblob:quota:`). With Redis Cluster it must contain a `{hash tag}`: a key's
   * reservations and the upload keys pointing at them are changed together by one script.
   */
  keyPrefix?: string;
  /** Key segment of one app among several on this Redis: `valiblob:<partition>:quota:` (see the session store). */
  partition?: string;
  /** Every Redis call that takes longer fails with `StoreUnavailableError` (default 2000 ms). */
  timeoutMs?: number;
}

/** Store defaults. */
export const REDIS_QUOTA_DEFAULTS = { keyPrefix: 'valiblob:quota:' } as const;

/** Script runs that found the upload moved to another quota key in between; each retry uses what it found. */
const MAX_ATTEMPTS = 10;

/**
 * Quota store on Redis, what `RedisSessionStore` offers (same client, prefix `…quota:` next to `…session:`).
 *
 * - `<prefix>k:<quotaKey>` is a hash with the key's totals (`used`, `reserved`) and its entries: `r:<uploadId>`
 *   (reserved bytes), `c:<uploadId>` (path of a committed upload), `p:<path>` (`<bytes>:<uploadId>` of the blob
 *   there); `<prefix>u:<uploadId>` names the key an unfinished upload is reserved under, since `release` gets only
 *   the upload id. Hashes left with nothing in them are deleted.
 * - Every change is one Lua script (`redis-quota.scripts.ts`), so `reserve` compares and adds atomically for every
 *   instance on this Redis; a usage read is one `HMGET`.
 * - The client is borrowed, never closed. Every call has a deadline; Redis down or slow → `StoreUnavailableError`.
 * @publicApi
 */
export class RedisQuotaStore extends UploadQuotaStore {
  private readonly prefix: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly client: RedisClient,
    options: RedisQuotaStoreOptions = {},
  ) {
    super();
    const problems = partitionProblems(options.partition, 'RedisQuotaStore');
    const prefix = options.keyPrefix ?? REDIS_QUOTA_DEFAULTS.keyPrefix;
    const valid = problems.length === 0 && typeof prefix === 'string';
    this.prefix = valid ? partitionedPrefix(prefix, options.partition, 'quota') : prefix;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
    if (typeof this.prefix !== 'string' || this.prefix === '') {
      problems.push('RedisQuotaStore: keyPrefix must be a non-empty string');
    }
    if (!Number.isSafeInteger(this.timeoutMs) || this.timeoutMs <= 0) {
      problems.push('RedisQuotaStore: timeoutMs must be a positive integer');
    }
    if (problems.length > 0) throw new InvalidValiBlobOptionsError(problems);
    requireHashTagInCluster(client, this.prefix, 'RedisQuotaStore');
  }

  /** Redis hash of a quota key. */
  keyFor(quotaKey: string): string {
    return `${this.prefix}k:${quotaKey}`;
  }

  async reserve(key: string, uploadId: string, bytes: number, limit: number): Promise<boolean> {
    assertQuotaBytes('bytes', bytes);
    assertQuotaBytes('limit', limit);
    const result = await this.runOnUpload('reserve', RESERVE_SCRIPT, uploadId, `k${key}`, this.keyFor(key), [
      key,
      uploadId,
      bytes,
      limit,
    ]);
    return result === 1;
  }

  async commit(key: string, uploadId: string, path: string, bytes: number): Promise<void> {
    assertQuotaBytes('bytes', bytes);
    await this.runOnUpload('commit', COMMIT_SCRIPT, uploadId, `k${key}`, this.keyFor(key), [
      key,
      uploadId,
      path,
      bytes,
    ]);
  }

  async release(uploadId: string): Promise<void> {
    // First guess "no reservation" (the usual case after a commit); the script corrects it otherwise.
    await this.runOnUpload('release', RELEASE_SCRIPT, uploadId, '', null, [uploadId]);
  }

  async forgetBlob(key: string, path: string): Promise<void> {
    await this.call('forgetBlob', () => FORGET_BLOB_SCRIPT.run(this.client, [this.keyFor(key)], [path]));
  }

  async usage(key: string): Promise<QuotaUsage> {
    const [used, reserved] = await this.call('usage', () => this.client.hmget(this.keyFor(key), 'used', 'reserved'));
    return { key, usedBytes: Number(used ?? 0), reservedBytes: Number(reserved ?? 0) };
  }

  /**
   * Run a script that touches the upload key and the hash it is reserved under (see `redis-quota.scripts.ts`):
   * `expected` is the first guess of the upload key's value; a script that finds another value returns it, and
   * the next run declares that hash. `target` is the hash the call writes (`null`: the reserved one).
   */
  private async runOnUpload(
    what: string,
    script: RedisScript,
    uploadId: string,
    expected: string,
    target: string | null,
    args: Array<string | number>,
  ): Promise<unknown> {
    const uploadKey = `${this.prefix}u:${uploadId}`;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = expected === '' ? null : this.keyFor(expected.slice(1));
      const keys = [uploadKey, target ?? current ?? uploadKey, current ?? target ?? uploadKey];
      const result = await this.call(what, () => script.run(this.client, keys, [expected, ...args]));
      if (typeof result !== 'string') return result;
      expected = result;
    }
    throw new StoreUnavailableError(`Quota entry of upload ${uploadId} is being changed too often to ${what}`);
  }

  private call<T>(what: string, call: () => Promise<T>): Promise<T> {
    return storeCall(`Redis quota ${what}`, this.timeoutMs, call);
  }
}
