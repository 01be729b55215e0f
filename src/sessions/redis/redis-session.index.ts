import { StoreUnavailableError } from '../../errors/vali-blob.errors';
import { decodeCursor, encodeCursor, findLimit, isExpiredTombstone, matchesSessionFilter } from '../session-filter';
import { SessionFilter, SessionPage, UploadSession } from '../upload-session.model';
import type { RedisClient } from './redis-connection';
import { RedisSessionBucket, RedisSessionCall } from './redis-session.bucket';
import type { RedisSessionKeys } from './redis-session.keys';

export type { RedisSessionCall } from './redis-session.bucket';

/** Ids read per round trip and bucket while scanning an index. */
const SCAN_BATCH = 200;

/** One bucket's position in a merged `find`: matching sessions read ahead, in id order. */
interface BucketCursor {
  bucket: RedisSessionBucket;
  after: string | undefined;
  ahead: UploadSession[];
  done: boolean;
}

/**
 * The listing side of `RedisSessionStore` over every bucket's index sorted sets (one bucket in the classic
 * layout): `find` merges the buckets in id order, `findExpired` merges them by expiry, `deleteMany` and
 * `deleteExpired` walk each bucket. Index entries of keys Redis expired on its own are pruned when a scan meets
 * them. Reads here never refresh a key's TTL: scans must not keep idle sessions alive.
 */
export class RedisSessionIndex {
  private readonly buckets: RedisSessionBucket[];

  constructor(client: RedisClient, keys: RedisSessionKeys, call: RedisSessionCall) {
    this.buckets = keys.bucketNumbers().map((b) => new RedisSessionBucket(client, keys, call, b));
  }

  /** One page of matching sessions in id order (see `ResumableSessionStore.find`); the cursor is the last id. */
  async find(filter: SessionFilter): Promise<SessionPage> {
    const limit = findLimit(filter);
    const after = decodeCursor(filter.cursor);
    // Each bucket reads at most one page ahead: a k-way merge needs only every bucket's next match.
    const batch = Math.min(SCAN_BATCH, limit + 1);
    const cursors: BucketCursor[] = this.buckets.map((bucket) => ({ bucket, after, ahead: [], done: false }));
    const items: UploadSession[] = [];
    for (;;) {
      const empty = cursors.filter((c) => !c.done && c.ahead.length === 0);
      await Promise.all(empty.map((c) => this.readAhead(c, filter, batch)));
      let next: BucketCursor | undefined;
      for (const c of cursors) {
        if (c.ahead.length > 0 && (!next || c.ahead[0].uploadId < next.ahead[0].uploadId)) next = c;
      }
      if (!next) return { items, nextCursor: null };
      if (items.length === limit) return { items, nextCursor: encodeCursor(items[items.length - 1].uploadId) };
      items.push(next.ahead.shift()!);
    }
  }

  /** Delete every matching session, each only if unchanged since it was read; returns how many went. */
  async deleteMany(filter: Omit<SessionFilter, 'limit' | 'cursor'>): Promise<number> {
    const counts = await Promise.all(
      this.buckets.map(async (bucket) => {
        let removed = 0;
        let after: string | undefined;
        for (;;) {
          const ids = await bucket.idsAfter(after, SCAN_BATCH);
          if (ids.length === 0) return removed;
          after = ids[ids.length - 1];
          const sessions = await bucket.load(ids);
          // Conditional on the version read: a session changed meanwhile may no longer match the filter.
          const matches = sessions.filter((s): s is UploadSession => s !== null && matchesSessionFilter(s, filter));
          removed += await bucket.deleteUnchanged(matches);
          if (ids.length < SCAN_BATCH) return removed;
        }
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /**
   * Up to `limit` sessions with `expiresAt <= now`, oldest expiry first, over every bucket: the oldest `limit`
   * index entries of each bucket are merged by score and only the overall oldest `limit` sessions are loaded.
   */
  async findExpired(now: number, limit: number): Promise<UploadSession[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) return [];
    // Stale index entries (keys Redis already expired) are pruned and the read repeated, a bounded number of times.
    for (let attempt = 0; attempt < 10; attempt++) {
      const perBucket = await Promise.all(
        this.buckets.map(async (bucket) => (await bucket.expiredEntries(now, limit)).map((e) => ({ bucket, ...e }))),
      );
      const entries = perBucket.flat().sort((a, b) => a.expiresAt - b.expiresAt || (a.id < b.id ? -1 : 1));
      const chosen = entries.slice(0, limit);
      const loaded = await Promise.all(
        this.buckets.map((bucket) => bucket.load(chosen.filter((e) => e.bucket === bucket).map((e) => e.id))),
      );
      const sessions = loaded.flat();
      // Vanished keys were pruned from the index: read again to fill the page, unless there was nothing more.
      if (!sessions.includes(null) || entries.length === chosen.length) {
        return sessions
          .filter((s): s is UploadSession => s !== null && s.expiresAt <= now)
          .sort((a, b) => a.expiresAt - b.expiresAt || (a.uploadId < b.uploadId ? -1 : 1));
      }
    }
    throw new StoreUnavailableError('Redis expiry index keeps changing; try again');
  }

  /**
   * Delete expired tombstones (terminal status, `expiresAt <= now`, no `providerState`), one version-checked
   * script per page and bucket; returns how many went.
   */
  async deleteExpired(now: number): Promise<number> {
    const counts = await Promise.all(
      this.buckets.map(async (bucket) => {
        let removed = 0;
        // Entries that stay (unfinished sessions, tombstones with provider state) are skipped by offset; deleted
        // and pruned ones leave the index, so the next page starts after what was kept.
        let kept = 0;
        for (;;) {
          const ids = await bucket.expiredIds(now, kept, SCAN_BATCH);
          if (ids.length === 0) return removed;
          const sessions = (await bucket.load(ids)).filter((s): s is UploadSession => s !== null);
          const doomed = sessions.filter((s) => isExpiredTombstone(s, now));
          const gone = await bucket.deleteUnchanged(doomed);
          removed += gone;
          kept += sessions.length - gone;
          if (ids.length < SCAN_BATCH) return removed;
        }
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Read a bucket until `cursor.ahead` holds a match or the bucket is exhausted. */
  private async readAhead(cursor: BucketCursor, filter: SessionFilter, batch: number): Promise<void> {
    while (!cursor.done && cursor.ahead.length === 0) {
      const ids = await cursor.bucket.idsAfter(cursor.after, batch);
      if (ids.length < batch) cursor.done = true;
      if (ids.length === 0) return;
      cursor.after = ids[ids.length - 1];
      for (const session of await cursor.bucket.load(ids)) {
        if (session && matchesSessionFilter(session, filter)) cursor.ahead.push(session);
      }
    }
  }
}
