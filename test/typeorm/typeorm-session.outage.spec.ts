import { DataSource } from 'typeorm';
import { StoreUnavailableError } from '../../src/errors/vali-blob.errors';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { makeTestSession } from '../../src/testing';
import { PG_URL } from '../support/services';
import { describePostgres } from './postgres-gate';
import { startTcpProxy, TcpProxy } from './tcp-proxy';
import { createScratchPostgres, migratedDataSource, ScratchPostgres } from './typeorm-test-db';

/** Every store operation, so none can answer "not found" (or anything else) during an outage. */
function everyOperation(store: TypeOrmSessionStore, id: string): Array<[string, () => Promise<unknown>]> {
  return [
    ['get', () => store.get(id)],
    ['save', () => store.save(makeTestSession())],
    ['update', () => store.update(makeTestSession({ uploadId: id }))],
    ['delete', () => store.delete(id)],
    ['advance', () => store.advance(id, 0, { uploadedBytes: 1 })],
    ['find', () => store.find({ pathPrefix: 'x/' })],
    ['deleteMany', () => store.deleteMany({ ownerId: 'o' })],
    ['findExpired', () => store.findExpired(Date.now(), 10)],
    ['deleteExpired', () => store.deleteExpired(Date.now())],
    ['ping', () => store.ping()],
  ];
}

describePostgres('TypeOrmSessionStore during a PostgreSQL outage (real TCP proxy)', () => {
  let scratch: ScratchPostgres;
  let proxy: TcpProxy;
  let dataSource: DataSource;
  let store: TypeOrmSessionStore;
  const session = makeTestSession();

  beforeAll(async () => {
    scratch = await createScratchPostgres('outage');
    proxy = await startTcpProxy(new URL(PG_URL).hostname, Number(new URL(PG_URL).port || 5432));
    const url = new URL(scratch.url);
    url.port = String(proxy.port);
    url.hostname = '127.0.0.1';
    dataSource = await migratedDataSource(url.toString());
    store = new TypeOrmSessionStore(dataSource, { timeoutMs: 1500 });
    await store.save(session);
    expect(await store.get(session.uploadId)).toEqual(session);
  });

  afterAll(async () => {
    await dataSource?.destroy().catch(() => undefined);
    await proxy?.close();
    await scratch?.drop();
  });

  it('a hung database times out as StoreUnavailableError (503) on every operation', async () => {
    proxy.stall();
    const started = Date.now();
    const outcomes = await Promise.all(
      everyOperation(store, session.uploadId).map(async ([name, op]) => ({
        name,
        error: await op().then(
          () => null,
          (e: unknown) => e,
        ),
      })),
    );
    for (const { name, error } of outcomes) {
      expect({ name, error }).toEqual({ name, error: expect.any(StoreUnavailableError) });
      expect((error as StoreUnavailableError).status).toBe(503);
    }
    // Bounded by the 1.5 s store timeout, not by TCP or pool time-outs.
    expect(Date.now() - started).toBeLessThan(5000);
  }, 60_000);

  it('a dropped database connection is StoreUnavailableError, never "not found"', async () => {
    proxy.cut();
    for (const [name, op] of everyOperation(store, session.uploadId)) {
      const error = await op().then(
        () => null,
        (e: unknown) => e,
      );
      expect({ name, error }).toEqual({ name, error: expect.any(StoreUnavailableError) });
    }
  }, 60_000);
});

describe('TypeOrmSessionStore on a closed SQLite DataSource', () => {
  it('reports StoreUnavailableError instead of null', async () => {
    const dataSource = await migratedDataSource('sqlite::memory:');
    const store = new TypeOrmSessionStore(dataSource);
    await dataSource.destroy();
    await expect(store.get('some-id')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
  });

  it('keeps a duplicate save a caller error (not a 503)', async () => {
    const dataSource = await migratedDataSource('sqlite::memory:');
    const store = new TypeOrmSessionStore(dataSource);
    const session = makeTestSession();
    await store.save(session);
    const error = await store.save(session).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/already exists/);
    await dataSource.destroy();
  });

  it('a malformed cursor stays a 400, not a 503', async () => {
    const dataSource = await migratedDataSource('sqlite::memory:');
    const store = new TypeOrmSessionStore(dataSource);
    await expect(store.find({ cursor: '***' })).rejects.toMatchObject({ code: 'INVALID_REQUEST', status: 400 });
    await dataSource.destroy();
  });
});
