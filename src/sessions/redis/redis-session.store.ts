import { OnModuleDestroy } from '@nestjs/common';
import { InvalidValiBlobOptionsError, SessionAlreadyExistsError, StoreUnavailableError } from '../../errors/vali-blob.errors';
import type { Redis } from 'ioredis';
import { RedisCleanupLock } from '../../cleanup/locks/redis-cleanup.lock';
import { RedisUploadLocker, RedisUploadLockerOptions } from '../../locking/redis/redis-upload.locker';
import type { StoreLocks } from '../../locking/store-locks';
import { ResumableSessionStore } from '../resumable-session-store';
import { storeCall } from '../store-call';
import { decodeCursor, encodeCursor, findLimit, matchesSessionFilter } from '../session-filter';
import {
  ACTIVE_STATUSES,
  SessionFilter,
  SessionPage,
  SessionPatch,
  UploadSession,
} from '../upload-session.model';
import {
  closeRedisClient,
  DEFAULT_REDIS_TIMEOUT_MS,
  OwnedRedisClient,
  openRedisClient,
  RedisClient,
  RedisConnectionOptions,
  requireHashTagInCluster,
} from './redis-connection';
import { DELETE_SCRIPT, GET_SCRIPT, PRUNE_SCRIPT, SAVE_SCRIPT, WRITE_SCRIPT } from './redis-session.scripts';

/** Options of `RedisSessionStore`. */
export interface RedisSessionStoreOptions extends RedisConnectionOptions {
  /** Prefix of every key (default `valiblob:session:`). Use a `{hash tag}` with Redis Cluster. */
  keyPrefix?: string;
  /** Sliding key TTL in ms, reset on every get and write (default 24 h). */
  slidingExpiration?: number;
  /**
   * Extra key lifetime past a session's `expiresAt` (default 1 h), so cleanup still finds an expired session in
   * the expiry index and frees its provider-side data before Redis drops the key.
   */
  expiryGraceMs?: number;
  /**
   * Options of the `RedisUploadLocker` that `createLocks()` makes on this store's client (lease TTL, …). Its key
   * prefix defaults to the store's with a trailing `session:` replaced by `lock:` (`valiblob:lock:`).
   */
  lock?: Omit<RedisUploadLockerOptions, 'client' | 'connection' | 'db'>;
}

/** Store defaults. */
export const REDIS_SESSION_DEFAULTS = {
  keyPrefix: 'valiblob:session:',
  slidingExpiration: 24 * 3_600_000,
  expiryGraceMs: 3_600_000,
} as const;

/** Ids read per round trip while scanning the id index in `find` / `deleteMany`. */
const SCAN_BATCH = 200;
/** Compare-and-set retries when concurrent writers keep changing the version (each retry re-reads). */
const MAX_CAS_ATTEMPTS = 50;

/**
 * Session store on Redis (ioredis), for deployments with several instances.
 *
 * - Each session is compact JSON at `<keyPrefix><uploadId>` (`redis-cli GET` shows it), with a key TTL of
 *   `max(slidingExpiration, expiresAt - now) + expiryGraceMs`, reset by `get`, `update` and `advance`;
 *   `delete` removes the key. The TTL is a safety net: the logical expiry stays `expiresAt`.
 * - `<keyPrefix>#expiry` (sorted set, score = expiresAt) lets `findExpired` return sessions before their keys
 *   vanish, so cleanup can abort provider-side data first; `<keyPrefix>#ids` (sorted set by id) pages `find`.
 *   Index entries of keys Redis expired on its own are pruned when a scan meets them.
 * - `advance` and `update` are one Lua compare-and-set each (offset + active status + fence + version); see
 *   `redis-session.scripts.ts` for why the new JSON is built here rather than in Lua.
 * - Every call has a deadline; Redis down or slow → `StoreUnavailableError` (503), never "not found".
 */
export class RedisSessionStore extends ResumableSessionStore implements OnModuleDestroy {
  private readonly connection: OwnedRedisClient;
  private readonly prefix: string;
  private readonly slidingMs: number;
  private readonly graceMs: number;
  private readonly timeoutMs: number;
  private readonly expiryKey: string;
  private readonly idsKey: string;
  private closed?: Promise<void>;
  private readonly lockOptions: RedisSessionStoreOptions['lock'];

  constructor(options: RedisSessionStoreOptions = {}) {
    super();
    this.lockOptions = options.lock;
    const problems: string[] = [];
    this.prefix = options.keyPrefix ?? REDIS_SESSION_DEFAULTS.keyPrefix;
    this.slidingMs = options.slidingExpiration ?? REDIS_SESSION_DEFAULTS.slidingExpiration;
    this.graceMs = options.expiryGraceMs ?? REDIS_SESSION_DEFAULTS.expiryGraceMs;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
    if (typeof this.prefix !== 'string' || this.prefix === '') problems.push('RedisSessionStore: keyPrefix must be a non-empty string');
    if (!Number.isSafeInteger(this.slidingMs) || this.slidingMs <= 0) {
      problems.push('RedisSessionStore: slidingExpiration must be a positive integer (ms)');
    }
    if (!Number.isSafeInteger(this.graceMs) || this.graceMs < 0) problems.push('RedisSessionStore: expiryGraceMs must be >= 0 (ms)');
    if (problems.length > 0) throw new InvalidValiBlobOptionsError(problems);
    this.connection = openRedisClient(options, 'RedisSessionStore');
    requireHashTagInCluster(this.connection.client, this.prefix, 'RedisSessionStore');
    // '#' never occurs in upload ids (URL-safe base64), so index keys cannot collide with session keys.
    this.expiryKey = `${this.prefix}#expiry`;
    this.idsKey = `${this.prefix}#ids`;
  }

  /**
   * Locks on the same Redis as the sessions (this store's client; the upload locker adds one subscriber
   * connection of its own): every instance sharing the sessions shares the locks, with no configuration.
   */
  override createLocks(): StoreLocks {
    const base = this.prefix.endsWith('session:') ? this.prefix.slice(0, -'session:'.length) : this.prefix;
    const uploadLocker = new RedisUploadLocker({
      keyPrefix: `${base}lock:`,
      timeoutMs: this.timeoutMs,
      ...this.lockOptions,
      client: this.client,
    });
    // RedisCleanupLock uses only SET NX / EVAL on one key, which a Cluster client serves as well.
    const cleanupLock = new RedisCleanupLock(this.client as Redis, { key: `${base}cleanup-lock` });
    return { scope: 'shared', uploadLocker, cleanupLock, description: `Redis upload and cleanup locks (${base}lock:)` };
  }

  /** The ioredis client in use (borrowed or owned). */
  get client(): RedisClient {
    return this.connection.client;
  }

  /** Redis key of a session. */
  keyFor(uploadId: string): string {
    return `${this.prefix}${uploadId}`;
  }

  async save(session: UploadSession): Promise<void> {
    const stored = await this.call('save', () =>
      SAVE_SCRIPT.run(this.client, this.keys(session.uploadId), [
        serialize(session),
        this.ttlFor(session.expiresAt),
        session.expiresAt,
        session.uploadId,
      ]),
    );
    if (stored !== 1) throw new SessionAlreadyExistsError(session.uploadId);
  }

  async get(uploadId: string): Promise<UploadSession | null> {
    const json = await this.call('get', () =>
      GET_SCRIPT.run(this.client, [this.keyFor(uploadId), this.expiryKey], [uploadId, Date.now(), this.slidingMs, this.graceMs]),
    );
    return json === null || json === undefined ? null : parse(json as string, uploadId);
  }

  async update(session: UploadSession): Promise<UploadSession | null> {
    return this.compareAndSet(session.uploadId, 'update', (current) => ({ ...session, version: current.version + 1 }));
  }

  async delete(uploadId: string): Promise<void> {
    await this.call('delete', () => DELETE_SCRIPT.run(this.client, this.keys(uploadId), [uploadId, '']));
  }

  async advance(uploadId: string, expectedOffset: number, patch: SessionPatch): Promise<UploadSession | null> {
    return this.compareAndSet(
      uploadId,
      'advance',
      (current) => ({ ...current, ...patch, version: current.version + 1 }) as UploadSession,
      { expectedOffset, fence: patch.fence },
    );
  }

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
        DELETE_SCRIPT.run(this.client, this.keys(session.uploadId), [session.uploadId, session.version]),
      );
      removed += Number(result);
    }
    return removed;
  }

  async findExpired(now: number, limit: number): Promise<UploadSession[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) return [];
    // Stale index entries (keys Redis already expired) are pruned and the read repeated, a bounded number of times.
    for (let attempt = 0; attempt < 10; attempt++) {
      const ids = (await this.call('findExpired', () =>
        this.client.zrangebyscore(this.expiryKey, '-inf', now, 'LIMIT', 0, limit),
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

  async ping(): Promise<void> {
    await this.call('ping', () => this.client.ping());
  }

  /** Close the connection if this store opened it (a borrowed `client` stays open). Idempotent. */
  async close(): Promise<void> {
    this.closed ??= closeRedisClient(this.connection);
    await this.closed;
  }

  /** Nest lifecycle: close on application shutdown. */
  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private keys(uploadId: string): string[] {
    return [this.keyFor(uploadId), this.expiryKey, this.idsKey];
  }

  private ttlFor(expiresAt: number): number {
    return Math.max(1, Math.round(Math.max(this.slidingMs, expiresAt - Date.now()) + this.graceMs));
  }

  /**
   * Read, build the next JSON, and swap it in with one Lua compare-and-set that re-checks the conditions and the
   * version atomically. A version race (another write in between) re-reads and retries; a failed condition is a
   * definitive `null`.
   */
  private async compareAndSet(
    uploadId: string,
    mode: 'update' | 'advance',
    next: (current: UploadSession) => UploadSession,
    advance?: { expectedOffset: number; fence?: number },
  ): Promise<UploadSession | null> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const json = (await this.call(mode, () => this.client.get(this.keyFor(uploadId)))) as string | null;
      if (json === null) return null;
      const current = parse(json, uploadId);
      if (advance) {
        // Cheap early answer; the script checks the same again atomically.
        if (current.uploadedBytes !== advance.expectedOffset || !ACTIVE_STATUSES.includes(current.status)) return null;
        if (advance.fence !== undefined && current.fence > advance.fence) return null;
      }
      const updated = next(current);
      const result = await this.call(mode, () =>
        WRITE_SCRIPT.run(this.client, this.keys(uploadId), [
          mode,
          current.version,
          serialize(updated),
          this.ttlFor(updated.expiresAt),
          updated.expiresAt,
          uploadId,
          advance?.expectedOffset ?? '',
          advance?.fence ?? '',
        ]),
      );
      if (result === 1) return parse(serialize(updated), uploadId);
      if (result === 0) return null;
      // -1: version moved on; read again.
    }
    throw new StoreUnavailableError(`Session ${uploadId} is being changed too often to ${mode}; try again`);
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
        this.client.zrangebylex(this.idsKey, from, '+', 'LIMIT', 0, SCAN_BATCH),
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
    const values = (await this.call('mget', () => this.client.mget(...ids.map((id) => this.keyFor(id))))) as Array<string | null>;
    const missing = ids.filter((_, i) => values[i] === null);
    if (missing.length > 0) {
      await this.call('prune', () =>
        PRUNE_SCRIPT.run(this.client, [this.expiryKey, this.idsKey, ...missing.map((id) => this.keyFor(id))], missing),
      );
    }
    return values.map((value, i) => (value === null ? null : parse(value, ids[i])));
  }

  private call<T>(what: string, call: () => Promise<T>): Promise<T> {
    return storeCall(`Redis ${what}`, this.timeoutMs, call);
  }
}

/** Compact JSON in the model's field order (stable, readable with `redis-cli GET`). */
function serialize(session: UploadSession): string {
  const ordered: UploadSession = {
    uploadId: session.uploadId,
    path: session.path,
    provider: session.provider,
    totalSize: session.totalSize,
    uploadedBytes: session.uploadedBytes,
    contentType: session.contentType,
    metadata: session.metadata,
    ownerId: session.ownerId,
    status: session.status,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    expiresAt: session.expiresAt,
    version: session.version,
    providerState: session.providerState,
    checksum: session.checksum,
    concat: session.concat,
    fence: session.fence,
    conflict: session.conflict,
  };
  return JSON.stringify(ordered);
}

function parse(json: string, uploadId: string): UploadSession {
  try {
    const session = JSON.parse(json) as UploadSession;
    if (typeof session !== 'object' || session === null || session.uploadId !== uploadId) throw new Error('shape');
    // Older records may lack fields added to the model later.
    session.fence ??= 0;
    session.concat ??= null;
    // Records from before the field were created when overwrite was checked at start only.
    session.conflict ??= 'overwrite';
    return session;
  } catch (error) {
    throw new StoreUnavailableError(`Session record ${uploadId} in Redis is not valid session JSON`, { cause: error });
  }
}
