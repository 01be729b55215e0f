import { StoreUnavailableError } from '../../errors/vali-blob.errors';
import { decodeCursor, encodeCursor, findLimit, matchesSessionFilter } from '../session-filter';
import { SessionFilter, SessionPage, UploadSession } from '../upload-session.model';
import type { RedisClient } from './redis-connection';
import { parseSession, RedisSessionKeys } from './redis-session.codec';
import { DELETE_SCRIPT, PRUNE_SCRIPT } from './redis-session.scripts';

/** Ids read per round trip while scanning the id index in `find` / `deleteMany`. */
const SCAN_BATCH = 200;

/** A Redis call under the store's deadline (failures become `StoreUnavailableError`). */
export type RedisSessionCall = <T>(what: string, call: () => Promise<T>) => Promise<T>;

/**
 * The listing side of `RedisSessionStore`: `find`, `deleteMany` and `findExpired` over the two index sorted sets.
 * Index entries of keys Redis expired on its own are pruned when a scan meets them. Reads here never refresh a
 * key's TTL: scans must not keep idle sessions alive.
 */
export class RedisSessionIndex {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisSessionKeys,
    private readonly call: RedisSessionCall,
  ) {}

  /** One page of matching sessions in id order (see `ResumableSessionStore.find`). */
  async find(filter: SessionFilter): Promise<SessionPage> {
    const limit = findLimit(filter);
    const after = decodeCursor(filter.cursor);
    const items: UploadSession[] = [];
    let more = false;
    await this.scan(after, filter, (session) => {
      if (items.length === limit) {
        more = true;
        return false;
      }
      items.push(session);
      return true;
    });
    return { items, nextCursor: more ? encodeCursor(items[items.length - 1].uploadId) : null };
  }

  /** Delete every matching session, each only if unchanged since it was read; returns how many went. */
  async deleteMany(filter: Omit<SessionFilter, 'limit' | 'cursor'>): Promise<number> {
    const matches: UploadSession[] = [];
    await this.scan(undefined, filter, (session) => {
      matches.push(session);
      return true;
    });
    let removed = 0;
    for (const session of matches) {
      // Conditional on the version read: a session changed meanwhile may no longer match the filter.
      const result = await this.call('deleteMany', () =>
        DELETE_SCRIPT.run(this.client, this.keys.all(session.uploadId), [session.uploadId, session.version]),
      );
      removed += Number(result);
    }
    return removed;
  }

  /** Up to `limit` sessions with `expiresAt <= now`, oldest expiry first. */
  async findExpired(now: number, limit: number): Promise<UploadSession[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) return [];
    // Stale index entries (keys Redis already expired) are pruned and the read repeated, a bounded number of times.
    for (let attempt = 0; attempt < 10; attempt++) {
      const ids = (await this.call('findExpired', () =>
        this.client.zrangebyscore(this.keys.expiry, '-inf', now, 'LIMIT', 0, limit),
      )) as string[];
      const sessions = await this.load(ids);
      const found = sessions.filter((s): s is UploadSession => s !== null && s.expiresAt <= now);
      // Vanished keys were pruned from the index: read again to fill the page, unless the index ran out anyway.
      if (!sessions.includes(null) || ids.length < limit) {
        return found.sort((a, b) => a.expiresAt - b.expiresAt || (a.uploadId < b.uploadId ? -1 : 1)).slice(0, limit);
      }
    }
    throw new StoreUnavailableError('Redis expiry index keeps changing; try again');
  }

  /**
   * Walk the id index in id order after `after`, loading sessions in batches and passing those that match the
   * filter to `visit` until it returns false.
   */
  private async scan(
    after: string | undefined,
    filter: Omit<SessionFilter, 'limit' | 'cursor'>,
    visit: (session: UploadSession) => boolean,
  ): Promise<void> {
    let from = after === undefined ? '-' : `(${after}`;
    for (;;) {
      const ids = (await this.call('find', () =>
        this.client.zrangebylex(this.keys.ids, from, '+', 'LIMIT', 0, SCAN_BATCH),
      )) as string[];
      if (ids.length === 0) return;
      const sessions = await this.load(ids);
      for (const session of sessions) {
        if (session && matchesSessionFilter(session, filter) && !visit(session)) return;
      }
      if (ids.length < SCAN_BATCH) return;
      from = `(${ids[ids.length - 1]}`;
    }
  }

  /** MGET sessions by id (no TTL refresh: scans must not keep idle sessions alive); prunes vanished ones. */
  private async load(ids: string[]): Promise<Array<UploadSession | null>> {
    if (ids.length === 0) return [];
    const keys = ids.map((id) => this.keys.session(id));
    const values = (await this.call('mget', () => this.client.mget(...keys))) as Array<string | null>;
    const missing = ids.filter((_, i) => values[i] === null);
    if (missing.length > 0) {
      const pruneKeys = [this.keys.expiry, this.keys.ids, ...missing.map((id) => this.keys.session(id))];
      await this.call('prune', () => PRUNE_SCRIPT.run(this.client, pruneKeys, missing));
    }
    return values.map((value, i) => (value === null ? null : parseSession(value, ids[i])));
  }
}
