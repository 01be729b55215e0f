import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { UploadLockedError } from '../../src/errors/vali-blob.errors';
import { SqlUploadLocker, SqlUploadLockerOptions } from '../../src/locking/sql/sql-upload.locker';
import { UploadLockEntity } from '../../src/locking/sql/upload-lock.entity';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { makeTestSession } from '../../src/testing';
import { describePostgres } from './postgres-gate';
import { createScratchPostgres, migratedDataSource, ScratchPostgres, scratchDir } from './typeorm-test-db';

const WAIT = { waitMs: 3000, requestRelease: false };
const NO_WAIT = { waitMs: 0, requestRelease: false };
let counter = 0;
const newId = () => `lock-${Date.now()}-${counter++}`;

/**
 * The locker contract across instances: every test uses two (or more) DataSources on the same database, as two
 * server processes would.
 */
function lockerSuite(connect: () => Promise<DataSource>) {
  const dataSources: DataSource[] = [];
  const lockers: SqlUploadLocker[] = [];
  const instance = async (options: SqlUploadLockerOptions = {}) => {
    const dataSource = await connect();
    dataSources.push(dataSource);
    const locker = new SqlUploadLocker(dataSource, { pollMs: 20, releasePollMs: 50, ...options });
    lockers.push(locker);
    return { dataSource, locker };
  };
  afterEach(async () => {
    for (const locker of lockers.splice(0)) await locker.close();
    for (const dataSource of dataSources.splice(0)) if (dataSource.isInitialized) await dataSource.destroy();
  });

  it('is mutually exclusive across instances; a freed lock is handed over with a higher fence', async () => {
    const a = await instance();
    const b = await instance();
    const id = newId();
    const leaseA = await a.locker.acquire(id, NO_WAIT);
    const refused = await b.locker.acquire(id, { waitMs: 150, requestRelease: false }).catch((e) => e);
    expect(refused).toBeInstanceOf(UploadLockedError);
    expect(refused).toMatchObject({ code: 'UPLOAD_LOCKED', status: 423 });

    const waiting = b.locker.acquire(id, WAIT);
    await sleep(100);
    await leaseA.release();
    const leaseB = await waiting;
    expect(leaseB.fence).toBeGreaterThan(leaseA.fence);
    // A's late release (a retry, or a zombie) must not free B's lock: compare-and-release on the owner token.
    await leaseA.release();
    await expect(a.locker.acquire(id, NO_WAIT)).rejects.toBeInstanceOf(UploadLockedError);
    await leaseB.release();
    await expect(a.locker.acquire(id, NO_WAIT)).resolves.toMatchObject({ fence: expect.any(Number) });
  });

  it('never lets two holders in at once (read-modify-write counter, 3 instances, 24 increments)', async () => {
    const instances = await Promise.all([instance(), instance(), instance()]);
    const id = newId();
    let value = 0;
    let inside = 0;
    let maxInside = 0;
    const fences: number[] = [];
    await Promise.all(
      instances.flatMap(({ locker }) =>
        Array.from({ length: 8 }, async () => {
          const lease = await locker.acquire(id, { waitMs: 30_000, requestRelease: false });
          inside++;
          maxInside = Math.max(maxInside, inside);
          fences.push(lease.fence);
          const read = value;
          await sleep(5);
          value = read + 1;
          inside--;
          await lease.release();
        }),
      ),
    );
    expect(maxInside).toBe(1);
    expect(value).toBe(24);
    // Fences in grant order strictly increase.
    expect(fences).toEqual([...fences].sort((x, y) => x - y));
    expect(new Set(fences).size).toBe(24);
  }, 60_000);

  it('a dead holder (no heartbeat) loses the lock after the TTL; its signal aborts once it notices', async () => {
    const a = await instance({ ttlMs: 600 });
    const b = await instance({ ttlMs: 600 });
    const id = newId();
    const leaseA = await a.locker.acquire(id, NO_WAIT);
    // "Kill" A: its connection goes away, so the heartbeat cannot extend the lease.
    await a.dataSource.destroy();
    const started = Date.now();
    const leaseB = await b.locker.acquire(id, WAIT);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(400);
    expect(waited).toBeLessThan(2500);
    expect(leaseB.fence).toBeGreaterThan(leaseA.fence);
    await sleep(400);
    expect(leaseA.signal.aborted).toBe(true);
  });

  it('a live holder keeps the lock beyond the TTL by heart-beating', async () => {
    const a = await instance({ ttlMs: 300 });
    const b = await instance({ ttlMs: 300 });
    const id = newId();
    const leaseA = await a.locker.acquire(id, NO_WAIT);
    await sleep(900);
    await expect(b.locker.acquire(id, NO_WAIT)).rejects.toBeInstanceOf(UploadLockedError);
    expect(leaseA.signal.aborted).toBe(false);
  });

  it('a release request reaches the holder on another instance, which lets go; the contender proceeds', async () => {
    const a = await instance();
    const b = await instance();
    const id = newId();
    let asked = 0;
    const leaseA = await a.locker.acquire(id, {
      ...NO_WAIT,
      onReleaseRequested: () => {
        asked++;
        // The holder keeps what it stored and releases (tus: stop reading the body).
        setTimeout(() => void leaseA.release(), 20);
      },
    });
    const started = Date.now();
    const leaseB = await b.locker.acquire(id, { waitMs: 5000, requestRelease: true });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(asked).toBe(1);
    expect(leaseB.fence).toBeGreaterThan(leaseA.fence);
  });

  it('lease.signal aborts when the row is taken away from the holder', async () => {
    const a = await instance({ ttlMs: 300 });
    const id = newId();
    const lease = await a.locker.acquire(id, NO_WAIT);
    await a.dataSource.getRepository(UploadLockEntity).update({ uploadId: id }, { owner: 'someone-else' });
    await sleep(400);
    expect(lease.signal.aborted).toBe(true);
  });

  it('fences keep growing across restarts and a paused former holder cannot advance the session', async () => {
    const id = newId();
    const storeDs = await connect();
    dataSources.push(storeDs);
    const store = new TypeOrmSessionStore(storeDs);
    const session = makeTestSession({ uploadId: id });
    await store.save(session);

    // A: takes the lock, writes, then "pauses" (a heartbeat that never fires stands in for a long GC pause).
    const a = await instance({ ttlMs: 300, heartbeatMs: 60_000 });
    const leaseA = await a.locker.acquire(id, NO_WAIT);
    expect(await store.advance(id, 0, { uploadedBytes: 10, fence: leaseA.fence })).toMatchObject({ uploadedBytes: 10 });

    // B: a fresh instance (as after a restart) takes over once A's lease lapsed, and writes.
    const b = await instance({ ttlMs: 300 });
    const leaseB = await b.locker.acquire(id, WAIT);
    expect(leaseB.fence).toBeGreaterThan(leaseA.fence);
    expect(await store.advance(id, 10, { uploadedBytes: 20, fence: leaseB.fence })).toMatchObject({
      uploadedBytes: 20,
    });

    // A wakes up and tries to write at the offset it believes in → refused by the fence, state untouched.
    expect(await store.advance(id, 20, { uploadedBytes: 30, fence: leaseA.fence })).toBeNull();
    expect(await store.get(id)).toMatchObject({ uploadedBytes: 20, fence: leaseB.fence });
    await leaseB.release();

    // Even when the clock says an earlier time than the stored fence, the next fence is previous + 1.
    const future = leaseB.fence + 5_000_000_000;
    await storeDs.getRepository(UploadLockEntity).update({ uploadId: id }, { fence: future });
    const c = await instance();
    const leaseC = await c.locker.acquire(id, NO_WAIT);
    expect(leaseC.fence).toBe(future + 1);
  });

  it('prunes long-idle rows but never a held lock', async () => {
    const a = await instance();
    const idle = newId();
    const held = newId();
    await (await a.locker.acquire(idle, NO_WAIT)).release();
    await a.locker.acquire(held, NO_WAIT);
    await sleep(20);
    expect(await a.locker.pruneReleased(0)).toBeGreaterThanOrEqual(1);
    const repo = a.dataSource.getRepository(UploadLockEntity);
    expect(await repo.findOneBy({ uploadId: idle })).toBeNull();
    expect(await repo.findOneBy({ uploadId: held })).not.toBeNull();
  });
}

describe('SqlUploadLocker on one SQLite file shared by several DataSources', () => {
  const tmp = scratchDir('locker');
  const url = `sqlite:${join(tmp.dir, 'locks.sqlite')}`;
  beforeAll(async () => {
    await (await migratedDataSource(url)).destroy();
  });
  afterAll(() => tmp.cleanup());
  lockerSuite(() => migratedDataSource(url));
});

describePostgres('SqlUploadLocker on one PostgreSQL database shared by several DataSources', () => {
  let scratch: ScratchPostgres;
  beforeAll(async () => {
    scratch = await createScratchPostgres('locker');
    await (await migratedDataSource(scratch.url)).destroy();
  });
  afterAll(async () => scratch?.drop());
  lockerSuite(() => migratedDataSource(scratch.url));
});
