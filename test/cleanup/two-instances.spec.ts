import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { MemorySessionStore } from '../../src';
import { CleanupLock } from '../../src/cleanup/cleanup-lock';
import { CleanupReport } from '../../src/cleanup/cleanup-report';
import { PostgresAdvisoryCleanupLock } from '../../src/cleanup/locks/postgres-advisory-cleanup.lock';
import { ProcessCleanupLock } from '../../src/cleanup/locks/process-cleanup.lock';
import { RedisCleanupLock } from '../../src/cleanup/locks/redis-cleanup.lock';
import { PG_URL, REDIS_URL, serviceAvailable } from '../support/services';
import { bootCleanupApp, CleanupApp, expire, fileExists, startWithData } from './cleanup-fixture';

const SESSIONS = 60;

/** Shared by both "instances": deletes take a few ms so two unsynchronised sweeps would overlap. */
class SharedSlowStore extends MemorySessionStore {
  override async delete(uploadId: string): Promise<void> {
    await new Promise((r) => setTimeout(r, 3));
    return super.delete(uploadId);
  }
}

interface Pair {
  a: CleanupApp;
  b: CleanupApp;
  store: SharedSlowStore;
  staging: string[];
  close(): Promise<void>;
}

/** Two Nest apps sharing one store and one storage directory, each with its own cleanup lock object. */
async function bootPair(locks: [CleanupLock, CleanupLock]): Promise<Pair> {
  const root = await mkdtemp(join(tmpdir(), 'vb-two-'));
  const store = new SharedSlowStore();
  const a = await bootCleanupApp(root, store, { cleanup: { enabled: false, batchSize: 10, lock: locks[0] } });
  const b = await bootCleanupApp(root, store, { cleanup: { enabled: false, batchSize: 10, lock: locks[1] } });
  const staging: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const id = await startWithData(i % 2 ? a.uploads : b.uploads, 64, 8);
    staging.push(await a.storage.stagingPathOf((await store.get(id))!.providerState!));
    await expire(store, id);
  }
  return {
    a,
    b,
    store,
    staging,
    close: async () => {
      await a.app.close();
      await b.app.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Both instances run at the same moment, repeatedly, until nothing is left. */
async function sweepConcurrently(pair: Pair): Promise<CleanupReport[]> {
  const reports: CleanupReport[] = [];
  for (let round = 0; round < 20; round++) {
    reports.push(...(await Promise.all([pair.a.cleanup.runOnce(), pair.b.cleanup.runOnce()])));
    if ((await pair.store.findExpired(Date.now(), 1)).length === 0) break;
  }
  return reports;
}

function expectEachSessionOnce(pair: Pair, reports: CleanupReport[]): void {
  const events = [...pair.a.expiredEvents, ...pair.b.expiredEvents];
  expect(new Set(events).size).toBe(SESSIONS);
  expect(events).toHaveLength(SESSIONS);
  expect(reports.reduce((n, r) => n + r.expired, 0)).toBe(SESSIONS);
  expect(reports.reduce((n, r) => n + r.aborted, 0)).toBe(SESSIONS);
  expect(reports.reduce((n, r) => n + r.errors, 0)).toBe(0);
  // They really ran at the same time: in some round one instance found the lock taken.
  expect(reports.some((r) => r.skipped)).toBe(true);
}

describe('two instances sweeping at once', () => {
  it('control: with no shared lock the same setup processes sessions twice (so the tests below can fail)', async () => {
    const pair = await bootPair([new ProcessCleanupLock('control-a'), new ProcessCleanupLock('control-b')]);
    try {
      const reports = await sweepConcurrently(pair);
      const events = [...pair.a.expiredEvents, ...pair.b.expiredEvents];
      expect(events.length).toBeGreaterThan(SESSIONS);
      expect(reports.reduce((n, r) => n + r.expired, 0)).toBeGreaterThan(SESSIONS);
    } finally {
      await pair.close();
    }
  });

  describe('with a Redis cleanup lock (SET NX PX)', () => {
    let ok = false;
    const clients: Redis[] = [];
    beforeAll(async () => {
      ok = await serviceAvailable('Redis', REDIS_URL);
    });
    afterAll(async () => {
      for (const c of clients) c.disconnect();
    });

    it('never double-processes a session; every staging file is freed', async () => {
      if (!ok) return;
      const key = `valiblob:test:cleanup-lock:${Date.now()}`;
      const [ra, rb] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
      clients.push(ra, rb);
      const pair = await bootPair([new RedisCleanupLock(ra, { key }), new RedisCleanupLock(rb, { key })]);
      try {
        const reports = await sweepConcurrently(pair);
        expectEachSessionOnce(pair, reports);
        for (const path of pair.staging) expect(await fileExists(path)).toBe(false);
        expect(await ra.exists(key)).toBe(0);
      } finally {
        await pair.close();
      }
    });
  });

  describe('with a PostgreSQL advisory cleanup lock', () => {
    let ok = false;
    const dataSources: DataSource[] = [];
    beforeAll(async () => {
      ok = await serviceAvailable('PostgreSQL', PG_URL);
    });
    afterAll(async () => {
      for (const ds of dataSources) if (ds.isInitialized) await ds.destroy();
    });

    it('never double-processes a session; every staging file is freed', async () => {
      if (!ok) return;
      const name = `valiblob:test:${Date.now()}`;
      const [da, db] = [
        new DataSource({ type: 'postgres', url: PG_URL }),
        new DataSource({ type: 'postgres', url: PG_URL }),
      ];
      dataSources.push(da, db);
      await Promise.all([da.initialize(), db.initialize()]);
      const pair = await bootPair([
        new PostgresAdvisoryCleanupLock(da, { name }),
        new PostgresAdvisoryCleanupLock(db, { name }),
      ]);
      try {
        const reports = await sweepConcurrently(pair);
        expectEachSessionOnce(pair, reports);
        for (const path of pair.staging) expect(await fileExists(path)).toBe(false);
      } finally {
        await pair.close();
      }
    });
  });
});
