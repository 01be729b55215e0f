import { UploadSession } from '../upload-session.model';
import type { RedisClient } from './redis-connection';
import { parseSession } from './redis-session.codec';
import type { RedisSessionKeys } from './redis-session.keys';
import { DELETE_VERSIONS_SCRIPT, PRUNE_SCRIPT } from './redis-session.scripts';

/** A Redis call under the store's deadline (failures become `StoreUnavailableError`). */
export type RedisSessionCall = <T>(what: string, call: () => Promise<T>) => Promise<T>;

/**
 * Reads and bulk deletes inside one bucket. Every multi-key call names keys of that bucket only (one hash tag),
 * so on a Cluster it is served by the one master owning the bucket's slot.
 */
export class RedisSessionBucket {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisSessionKeys,
    private readonly call: RedisSessionCall,
    readonly bucket: number,
  ) {}

  /** Up to `count` ids after `after` (exclusive; from the start when undefined), in id order. */
  async idsAfter(after: string | undefined, count: number): Promise<string[]> {
    const from = after === undefined ? '-' : `(${after}`;
    return (await this.call('find', () =>
      this.client.zrangebylex(this.keys.ids(this.bucket), from, '+', 'LIMIT', 0, count),
    )) as string[];
  }

  /** Up to `count` ids with `expiresAt <= now`, oldest expiry first, skipping the first `offset`. */
  async expiredIds(now: number, offset: number, count: number): Promise<string[]> {
    return (await this.call('findExpired', () =>
      this.client.zrangebyscore(this.keys.expiry(this.bucket), '-inf', now, 'LIMIT', offset, count),
    )) as string[];
  }

  /** Up to `count` `[id, expiresAt]` entries with `expiresAt <= now`, oldest expiry first (ids only, no load). */
  async expiredEntries(now: number, count: number): Promise<Array<{ id: string; expiresAt: number }>> {
    const flat = (await this.call('findExpired', () =>
      this.client.zrangebyscore(this.keys.expiry(this.bucket), '-inf', now, 'WITHSCORES', 'LIMIT', 0, count),
    )) as string[];
    const entries: Array<{ id: string; expiresAt: number }> = [];
    for (let i = 0; i < flat.length; i += 2) entries.push({ id: flat[i], expiresAt: Number(flat[i + 1]) });
    return entries;
  }

  /** MGET sessions by id (no TTL refresh: scans must not keep idle sessions alive); prunes vanished ones. */
  async load(ids: string[]): Promise<Array<UploadSession | null>> {
    if (ids.length === 0) return [];
    const keys = ids.map((id) => this.keys.sessionIn(this.bucket, id));
    const values = (await this.call('mget', () => this.client.mget(...keys))) as Array<string | null>;
    const missing = ids.filter((_, i) => values[i] === null);
    if (missing.length > 0) {
      const pruneKeys = [
        this.keys.expiry(this.bucket),
        this.keys.ids(this.bucket),
        ...missing.map((id) => this.keys.sessionIn(this.bucket, id)),
      ];
      await this.call('prune', () => PRUNE_SCRIPT.run(this.client, pruneKeys, missing));
    }
    return values.map((value, i) => (value === null ? null : parseSession(value, ids[i])));
  }

  /** Delete the sessions still at the version read, in one script; returns how many went. */
  async deleteUnchanged(sessions: UploadSession[]): Promise<number> {
    if (sessions.length === 0) return 0;
    const keys = [
      this.keys.expiry(this.bucket),
      this.keys.ids(this.bucket),
      ...sessions.map((s) => this.keys.sessionIn(this.bucket, s.uploadId)),
    ];
    const args = sessions.flatMap((s) => [s.uploadId, s.version]);
    return Number(await this.call('deleteMany', () => DELETE_VERSIONS_SCRIPT.run(this.client, keys, args)));
  }
}
