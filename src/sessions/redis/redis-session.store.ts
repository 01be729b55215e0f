import { OnModuleDestroy } from '@nestjs/common';
import { RedisCleanupLock } from '../../cleanup/locks/redis-cleanup.lock';
import {
  InvalidValiBlobOptionsError,
  SessionAlreadyExistsError,
  StoreUnavailableError,
} from '../../errors/vali-blob.errors';
import { RedisUploadLocker } from '../../locking/redis/redis-upload.locker';
import type { StoreLocks } from '../../locking/store-locks';
import { RedisQuotaStore } from '../../policy/quota/redis-quota.store';
import { ResumableSessionStore } from '../resumable-session-store';
import { storeCall } from '../store-call';
import { ACTIVE_STATUSES, SessionFilter, SessionPage, SessionPatch, UploadSession } from '../upload-session.model';
import {
  closeRedisClient,
  DEFAULT_REDIS_TIMEOUT_MS,
  OwnedRedisClient,
  openRedisClient,
  RedisClient,
  isCluster,
  requireHashTagInCluster,
} from './redis-connection';
import { parseSession, serializeSession } from './redis-session.codec';
import { REDIS_SESSION_DEFAULTS, RedisSessionStoreOptions } from './redis-session-store.options';
import { RedisSessionIndex } from './redis-session.index';
import { bucketProblems, RedisSessionKeys, resolveBucketCount } from './redis-session.keys';
import { partitionedPrefix, partitionProblems } from './redis-partition';
import { hasHashTag } from './redis-key-slot';
import { DELETE_SCRIPT, GET_SCRIPT, SAVE_SCRIPT, WRITE_SCRIPT } from './redis-session.scripts';

export { REDIS_SESSION_DEFAULTS } from './redis-session-store.options';
export type { RedisSessionStoreOptions } from './redis-session-store.options';

/** Compare-and-set retries when concurrent writers keep changing the version (each retry re-reads). */
const MAX_CAS_ATTEMPTS = 50;

/**
 * Session store on Redis (ioredis), for deployments with several instances.
 *
 * - Each session is compact JSON at `<keyPrefix><uploadId>` (with buckets `<keyPrefix>{<tag>}:<uploadId>`;
 *   `redis-cli GET` shows it), with a key TTL of `max(slidingExpiration, expiresAt - now) + expiryGraceMs`,
 *   reset by `get`, `update` and `advance`; `delete` removes the key. The TTL is a safety net: the logical
 *   expiry stays `expiresAt`.
 * - Each bucket's `#expiry` sorted set (score = expiresAt) lets `findExpired` return sessions before their keys
 *   vanish, so cleanup can abort provider-side data first; its `#ids` sorted set pages `find`, which merges the
 *   buckets in id order (key layout: `redis-session.keys.ts`; listing: `redis-session.index.ts`).
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
  private readonly keys: RedisSessionKeys;
  private readonly index: RedisSessionIndex;
  private closed?: Promise<void>;
  private readonly lockOptions: RedisSessionStoreOptions['lock'];
  private readonly quotaOptions: RedisSessionStoreOptions['quota'];
  private readonly partition: string | undefined;

  constructor(options: RedisSessionStoreOptions = {}) {
    super();
    this.lockOptions = options.lock;
    this.quotaOptions = options.quota;
    this.partition = options.partition;
    const problems: string[] = [];
    const keyPrefix = options.keyPrefix ?? REDIS_SESSION_DEFAULTS.keyPrefix;
    problems.push(...partitionProblems(options.partition, 'RedisSessionStore'));
    this.prefix = problems.length > 0 ? keyPrefix : partitionedPrefix(keyPrefix, options.partition, 'session');
    this.slidingMs = options.slidingExpiration ?? REDIS_SESSION_DEFAULTS.slidingExpiration;
    this.graceMs = options.expiryGraceMs ?? REDIS_SESSION_DEFAULTS.expiryGraceMs;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
    if (typeof this.prefix !== 'string' || this.prefix === '') {
      problems.push('RedisSessionStore: keyPrefix must be a non-empty string');
    }
    if (!Number.isSafeInteger(this.slidingMs) || this.slidingMs <= 0) {
      problems.push('RedisSessionStore: slidingExpiration must be a positive integer (ms)');
    }
    if (!Number.isSafeInteger(this.graceMs) || this.graceMs < 0) {
      problems.push('RedisSessionStore: expiryGraceMs must be >= 0 (ms)');
    }
    problems.push(...bucketProblems(options.buckets, this.prefix));
    if (problems.length > 0) throw new InvalidValiBlobOptionsError(problems);
    this.connection = openRedisClient(options, 'RedisSessionStore');
    const buckets = resolveBucketCount(options.buckets, this.prefix, isCluster(this.connection.client));
    // One bucket on a Cluster needs a hash tag in the prefix (session + indexes in one slot).
    if (buckets === 1) requireHashTagInCluster(this.connection.client, this.prefix, 'RedisSessionStore');
    this.keys = new RedisSessionKeys(this.prefix, buckets);
    this.index = new RedisSessionIndex(this.client, this.keys, (what, call) => this.call(what, call));
  }

  /**
   * Locks on the same Redis as the sessions (this store's client; the upload locker adds one subscriber
   * connection of its own): every instance sharing the sessions shares the locks, with no configuration.
   */
  override createLocks(): StoreLocks {
    const base = this.basePrefix;
    const explicit = this.lockOptions?.keyPrefix;
    const uploadLocker = new RedisUploadLocker({
      timeoutMs: this.timeoutMs,
      ...this.lockOptions,
      keyPrefix: explicit === undefined ? `${base}lock:` : partitionedPrefix(explicit, this.partition, 'lock'),
      client: this.client,
    });
    // RedisCleanupLock uses only SET NX / EVAL on one key, which a Cluster client serves as well.
    const cleanupLock = new RedisCleanupLock(this.client, { key: `${base}cleanup-lock` });
    const description = `Redis upload and cleanup locks (${base}lock:)`;
    return { scope: 'shared', uploadLocker, cleanupLock, description };
  }

  /**
   * Quota usage on the same Redis (this store's client, so its hash tag keeps working on Cluster): every instance
   * sharing the sessions shares the numbers. The store owns the client; the quota store only borrows it.
   */
  override createQuotaStore(): RedisQuotaStore {
    const base = this.basePrefix;
    // Quota scripts touch a quota hash and upload keys together: on a Cluster they need one slot, so a prefix
    // without its own hash tag gets one here (quota traffic is small next to session traffic).
    const clusterTag = isCluster(this.client) && !hasHashTag(base);
    const explicit = this.quotaOptions?.keyPrefix;
    return new RedisQuotaStore(this.client, {
      timeoutMs: this.timeoutMs,
      ...this.quotaOptions,
      keyPrefix:
        explicit !== undefined
          ? partitionedPrefix(explicit, this.partition, 'quota')
          : clusterTag
            ? `{${base}quota}:`
            : `${base}quota:`,
    });
  }

  /** The session prefix without its trailing `session:`, where the lock and quota keys go. */
  private get basePrefix(): string {
    return this.prefix.endsWith('session:') ? this.prefix.slice(0, -'session:'.length) : this.prefix;
  }

  /** The ioredis client in use (borrowed or owned). */
  get client(): RedisClient {
    return this.connection.client;
  }

  /** Redis key of a session. */
  keyFor(uploadId: string): string {
    return this.keys.session(uploadId);
  }

  /** The session key prefix in use (partition applied). */
  get keyPrefix(): string {
    return this.prefix;
  }

  /** Number of index buckets (1: the single-index layout). */
  get bucketCount(): number {
    return this.keys.buckets;
  }

  /** The `#ids` index key of every bucket (for monitoring and slot checks: `CLUSTER KEYSLOT`). */
  indexKeys(): string[] {
    return this.keys.bucketNumbers().map((b) => this.keys.ids(b));
  }

  async save(session: UploadSession): Promise<void> {
    const stored = await this.call('save', () =>
      SAVE_SCRIPT.run(this.client, this.keys.all(session.uploadId), [
        serializeSession(session),
        this.ttlFor(session.expiresAt),
        session.expiresAt,
        session.uploadId,
      ]),
    );
    if (stored !== 1) throw new SessionAlreadyExistsError(session.uploadId);
  }

  async get(uploadId: string): Promise<UploadSession | null> {
    const json = await this.call('get', () =>
      GET_SCRIPT.run(this.client, this.keys.all(uploadId).slice(0, 2), [
        uploadId,
        Date.now(),
        this.slidingMs,
        this.graceMs,
      ]),
    );
    return json === null || json === undefined ? null : parseSession(json as string, uploadId);
  }

  async update(session: UploadSession): Promise<UploadSession | null> {
    return this.compareAndSet(session.uploadId, 'update', (current) => ({ ...session, version: current.version + 1 }));
  }

  async delete(uploadId: string): Promise<void> {
    await this.call('delete', () => DELETE_SCRIPT.run(this.client, this.keys.all(uploadId), [uploadId, '']));
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
    return this.index.find(filter);
  }

  async deleteMany(filter: Omit<SessionFilter, 'limit' | 'cursor'>): Promise<number> {
    return this.index.deleteMany(filter);
  }

  async findExpired(now: number, limit: number): Promise<UploadSession[]> {
    return this.index.findExpired(now, limit);
  }

  /** Expired tombstones without provider state go, one version-checked script per page and bucket. */
  override async deleteExpired(now: number): Promise<number> {
    return this.index.deleteExpired(now);
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
      const json = (await this.call(mode, () => this.client.get(this.keys.session(uploadId)))) as string | null;
      if (json === null) return null;
      const current = parseSession(json, uploadId);
      if (advance) {
        // Cheap early answer; the script checks the same again atomically.
        if (current.uploadedBytes !== advance.expectedOffset || !ACTIVE_STATUSES.includes(current.status)) return null;
        if (advance.fence !== undefined && current.fence > advance.fence) return null;
      }
      const updated = next(current);
      const result = await this.call(mode, () =>
        WRITE_SCRIPT.run(this.client, this.keys.all(uploadId), [
          mode,
          current.version,
          serializeSession(updated),
          this.ttlFor(updated.expiresAt),
          updated.expiresAt,
          uploadId,
          advance?.expectedOffset ?? '',
          advance?.fence ?? '',
        ]),
      );
      if (result === 1) return parseSession(serializeSession(updated), uploadId);
      if (result === 0) return null;
      // -1: version moved on; read again.
    }
    throw new StoreUnavailableError(`Session ${uploadId} is being changed too often to ${mode}; try again`);
  }

  /** One Redis call under `timeoutMs`; failures other than our typed errors become `StoreUnavailableError`. */
  private call<T>(what: string, call: () => Promise<T>): Promise<T> {
    return storeCall(`Redis ${what}`, this.timeoutMs, call);
  }
}
