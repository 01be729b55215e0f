import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:net';
import { StoreUnavailableError } from '../../src/errors/vali-blob.errors';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import { UploadStatus } from '../../src/sessions/upload-session.model';
import { makeTestSession } from '../../src/testing/session-store.contract';
import { REDIS_URL, serviceAvailable } from '../support/services';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RedisSessionStore: keys, TTL and outages (real Redis)', () => {
  let available = false;
  let admin: Redis;
  let store: RedisSessionStore;
  let prefix: string;

  beforeAll(async () => {
    available = await serviceAvailable('Redis', REDIS_URL);
    if (available) admin = new Redis(REDIS_URL);
  });

  beforeEach(() => {
    if (!available) throw new Error('Redis unavailable: see the SKIPPING message above');
    prefix = `vbtest:${randomBytes(6).toString('hex')}:session:`;
  });

  afterEach(async () => {
    await store?.close();
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  });

  afterAll(async () => {
    await admin?.quit();
  });

  it('stores compact JSON at <prefix><id>, readable with a plain GET', async () => {
    store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix: prefix });
    const session = makeTestSession({ metadata: { filename: 'a.bin' }, fence: 1_763_000_000_000_123 });
    await store.save(session);
    const raw = await admin.get(`${prefix}${session.uploadId}`);
    expect(raw).not.toBeNull();
    expect(raw).not.toMatch(/\n|\s{2}/);
    expect(JSON.parse(raw!)).toEqual(session);
    // Index entries sit next to the sessions under the same prefix.
    expect(Number(await admin.zscore(`${prefix}#expiry`, session.uploadId))).toBe(session.expiresAt);
  });

  it('sets the key TTL to max(sliding, expiresAt - now) + grace', async () => {
    store = new RedisSessionStore({
      connection: REDIS_URL,
      keyPrefix: prefix,
      slidingExpiration: 60_000,
      expiryGraceMs: 5_000,
    });
    const short = makeTestSession({ expiresAt: Date.now() + 1_000 });
    const long = makeTestSession({ expiresAt: Date.now() + 600_000 });
    await store.save(short);
    await store.save(long);
    const shortTtl = await admin.pttl(`${prefix}${short.uploadId}`);
    const longTtl = await admin.pttl(`${prefix}${long.uploadId}`);
    expect(shortTtl).toBeGreaterThan(60_000);
    expect(shortTtl).toBeLessThanOrEqual(65_000);
    expect(longTtl).toBeGreaterThan(600_000);
    expect(longTtl).toBeLessThanOrEqual(605_000);
  });

  it('lets an idle session expire after the sliding window; an active one (get/update/advance) lives on', async () => {
    store = new RedisSessionStore({
      connection: REDIS_URL,
      keyPrefix: prefix,
      slidingExpiration: 700,
      expiryGraceMs: 0,
    });
    const now = Date.now();
    const idle = makeTestSession({ expiresAt: now + 700 });
    const active = makeTestSession({ expiresAt: now + 700 });
    await store.save(idle);
    await store.save(active);
    // 2.4 s: more than three sliding windows. The active session is touched every 200 ms (reads, updates and
    // advances, as the engine does); the idle one is never touched.
    let offset = 0;
    const until = Date.now() + 2_400;
    for (let i = 0; Date.now() < until; i++) {
      await sleep(200);
      if (i % 3 === 0) expect(await store.get(active.uploadId)).not.toBeNull();
      else if (i % 3 === 1) {
        const current = (await store.get(active.uploadId))!;
        expect(await store.update({ ...current, metadata: { touched: String(i) } })).not.toBeNull();
      } else {
        expect(
          await store.advance(active.uploadId, offset, { uploadedBytes: offset + 1, status: UploadStatus.InProgress }),
        ).not.toBeNull();
        offset++;
      }
    }
    expect(await admin.exists(`${prefix}${idle.uploadId}`)).toBe(0);
    expect(await store.get(idle.uploadId)).toBeNull();
    expect(await admin.exists(`${prefix}${active.uploadId}`)).toBe(1);
    expect(await store.get(active.uploadId)).toMatchObject({ uploadedBytes: offset });
    // The expired key's index entries are pruned the next time a scan meets them.
    expect((await store.findExpired(Date.now(), 10)).map((s) => s.uploadId)).toEqual([active.uploadId]);
    expect(await admin.zscore(`${prefix}#expiry`, idle.uploadId)).toBeNull();
    expect(await admin.zscore(`${prefix}#ids`, idle.uploadId)).toBeNull();
  });

  it('keeps an expired session findable (expiry index) until the grace period ends, then Redis drops it', async () => {
    store = new RedisSessionStore({
      connection: REDIS_URL,
      keyPrefix: prefix,
      slidingExpiration: 100,
      expiryGraceMs: 1_000,
    });
    const session = makeTestSession({ expiresAt: Date.now() + 100, providerState: { staging: 'x' } });
    await store.save(session);
    await sleep(400);
    // Past expiresAt but inside the grace: cleanup can still see it and free the provider data.
    const expired = await store.findExpired(Date.now(), 10);
    expect(expired.map((s) => s.uploadId)).toEqual([session.uploadId]);
    expect(expired[0].providerState).toEqual({ staging: 'x' });
    await sleep(1_200);
    expect(await admin.exists(`${prefix}${session.uploadId}`)).toBe(0);
  });

  it('deletes the key and its index entries on delete', async () => {
    store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix: prefix });
    const session = makeTestSession();
    await store.save(session);
    await store.delete(session.uploadId);
    expect(await admin.keys(`${prefix}*`)).toEqual([]);
  });

  it('uses the db option for a connection it creates', async () => {
    store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix: prefix, db: 3 });
    const session = makeTestSession();
    await store.save(session);
    expect(await admin.exists(`${prefix}${session.uploadId}`)).toBe(0);
    const db3 = new Redis(REDIS_URL, { db: 3 });
    try {
      expect(await db3.exists(`${prefix}${session.uploadId}`)).toBe(1);
      await store.delete(session.uploadId);
    } finally {
      await db3.quit();
    }
  });

  it('reuses a client it is given and never closes it', async () => {
    const shared = new Redis(REDIS_URL);
    try {
      store = new RedisSessionStore({ client: shared, keyPrefix: prefix });
      const session = makeTestSession();
      await store.save(session);
      expect(await store.get(session.uploadId)).toEqual(session);
      await store.close();
      expect(shared.status).toBe('ready');
      expect(await shared.ping()).toBe('PONG');
    } finally {
      await shared.quit();
    }
  });

  it('rejects contradictory options with every problem listed', () => {
    const shared = new Redis({ lazyConnect: true });
    expect(() => new RedisSessionStore({ client: shared, slidingExpiration: -1 })).toThrow(
      /slidingExpiration must be a positive integer/,
    );
    try {
      new RedisSessionStore({ client: shared, db: 2, connection: REDIS_URL });
      throw new Error('expected a throw');
    } catch (error) {
      expect((error as { problems: string[] }).problems).toEqual([
        'RedisSessionStore: give either client or connection, not both',
        'RedisSessionStore: db cannot be set when reusing a client (select it on that client)',
      ]);
    }
    shared.disconnect();
  });
});

describe('RedisSessionStore when Redis is unreachable', () => {
  let closedPort: number;
  let holder: Server;

  beforeAll(async () => {
    // A port that was just free and is closed again: connections are refused.
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    closedPort = (holder.address() as { port: number }).port;
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  });

  it('fails every operation fast with StoreUnavailableError (503), never "not found"', async () => {
    const store = new RedisSessionStore({ connection: `redis://127.0.0.1:${closedPort}`, timeoutMs: 1_000 });
    try {
      const operations: Array<[string, () => Promise<unknown>]> = [
        ['get', () => store.get('some-upload-id')],
        ['save', () => store.save(makeTestSession())],
        ['advance', () => store.advance('some-upload-id', 0, { uploadedBytes: 1 })],
        ['update', () => store.update(makeTestSession())],
        ['delete', () => store.delete('some-upload-id')],
        ['find', () => store.find({})],
        ['findExpired', () => store.findExpired(Date.now(), 10)],
        ['ping', () => store.ping()],
      ];
      for (const [name, operation] of operations) {
        const started = Date.now();
        const error = await operation().then(
          () => new Error(`${name} resolved`),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
        expect(Date.now() - started).toBeLessThan(1_500);
      }
    } finally {
      await store.close();
    }
  });

  it('times out a borrowed client that queues commands forever', async () => {
    // A borrowed client with its own patient settings: the store's deadline still applies.
    const patient = new Redis({
      port: closedPort,
      host: '127.0.0.1',
      maxRetriesPerRequest: null,
      retryStrategy: () => 100,
    });
    patient.on('error', () => undefined);
    const store = new RedisSessionStore({ client: patient, timeoutMs: 300 });
    try {
      const started = Date.now();
      await expect(store.get('x')).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      patient.disconnect();
    }
  });
});
