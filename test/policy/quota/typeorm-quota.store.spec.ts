import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { StoreUnavailableError } from '../../../src/errors/vali-blob.errors';
import { QUOTA_ENTRIES_TABLE } from '../../../src/policy/quota/quota-entry.entity';
import { TypeOrmQuotaStore } from '../../../src/policy/quota/typeorm-quota.store';
import { UploadQuotaStore } from '../../../src/policy/quota/upload-quota.store';
import { TypeOrmSessionStore } from '../../../src/sessions/typeorm/typeorm-session.store';
import { runQuotaStoreContract } from '../../../src/testing';
import { PG_URL } from '../../support/services';
import { describePostgres } from '../../typeorm/postgres-gate';
import { startTcpProxy, TcpProxy } from '../../typeorm/tcp-proxy';
import {
  createScratchPostgres,
  installedSqliteDrivers,
  migratedDataSource,
  ScratchPostgres,
  scratchDir,
} from '../../typeorm/typeorm-test-db';

/** Every quota operation, so none can answer anything but a 503 during an outage. */
function everyOperation(store: UploadQuotaStore): Array<[string, () => Promise<unknown>]> {
  return [
    ['reserve', () => store.reserve('k', 'u', 1, 10)],
    ['commit', () => store.commit('k', 'u', 'p', 1)],
    ['release', () => store.release('u')],
    ['forgetBlob', () => store.forgetBlob('k', 'p')],
    ['usage', () => store.usage('k')],
  ];
}

async function outcomes(store: UploadQuotaStore): Promise<Array<{ name: string; error: unknown }>> {
  return Promise.all(
    everyOperation(store).map(async ([name, op]) => ({
      name,
      error: await op().then(
        () => null,
        (e: unknown) => e,
      ),
    })),
  );
}

/** The table the migrations created, as the database describes it. */
async function describeTable(dataSource: DataSource) {
  const runner = dataSource.createQueryRunner();
  try {
    const table = (await runner.getTable(QUOTA_ENTRIES_TABLE))!;
    return {
      columns: table.columns.map((c) => [c.name, c.isPrimary, c.isNullable]),
      indices: table.indices.map((i) => [i.name, i.columnNames]),
    };
  } finally {
    await runner.release();
  }
}

/** Shared by SQLite and PostgreSQL: the migrated schema, and the session store's `createQuotaStore()` on it. */
function migratedSchemaCases(name: string, dataSource: () => DataSource) {
  it(`${name}: VALIBLOB_MIGRATIONS create valiblob_quota_entries as the entity declares it`, async () => {
    expect(await describeTable(dataSource())).toEqual({
      columns: [
        ['upload_id', true, false],
        ['quota_key', false, false],
        ['path', false, true],
        ['bytes', false, false],
        ['committed', false, false],
        ['created_at', false, false],
      ],
      indices: [['IDX_valiblob_quota_entries_quota_key', ['quota_key']]],
    });
  });

  it(`${name}: TypeOrmSessionStore.createQuotaStore() keeps usage in that table`, async () => {
    const quota = new TypeOrmSessionStore(dataSource()).createQuotaStore();
    expect(quota).toBeInstanceOf(TypeOrmQuotaStore);
    const key = `wiring-${Date.now()}`;
    expect(await quota.reserve(key, `${key}-u`, 7, 10)).toBe(true);
    await quota.commit(key, `${key}-u`, 'w/x.bin', 6);
    const rows = await dataSource().query(
      `SELECT upload_id, path, bytes, committed FROM ${QUOTA_ENTRIES_TABLE} WHERE quota_key = '${key}'`,
    );
    expect(
      rows.map((r: Record<string, unknown>) => ({ ...r, bytes: Number(r.bytes), committed: !!r.committed })),
    ).toEqual([{ upload_id: `${key}-u`, path: 'w/x.bin', bytes: 6, committed: true }]);
    expect(await quota.usage(key)).toEqual({ key, usedBytes: 6, reservedBytes: 0 });
  });
}

// SQLite file, two DataSources (two connections) on it: the race runs across them as across two processes.
for (const driver of installedSqliteDrivers()) {
  describe(`TypeOrmQuotaStore on a SQLite file (${driver})`, () => {
    const tmp = scratchDir(`quota-${driver}`);
    let first: DataSource;
    let second: DataSource;
    beforeAll(async () => {
      const url = `sqlite:${join(tmp.dir, 'quota.sqlite')}`;
      first = await migratedDataSource(url, {}, { sqliteDriver: driver });
      second = await migratedDataSource(url, {}, { sqliteDriver: driver });
    });
    afterAll(async () => {
      await first?.destroy();
      await second?.destroy();
      tmp.cleanup();
    });
    runQuotaStoreContract(`typeorm sqlite file (${driver})`, async () => ({
      store: new TypeOrmQuotaStore(first),
      peer: new TypeOrmQuotaStore(second),
    }));
    migratedSchemaCases('sqlite', () => first);
  });
}

describe('TypeOrmQuotaStore on SQLite :memory:', () => {
  runQuotaStoreContract('typeorm sqlite :memory:', async () => {
    const dataSource = await migratedDataSource('sqlite::memory:');
    return { store: new TypeOrmQuotaStore(dataSource), dispose: () => dataSource.destroy() };
  });
});

describePostgres('TypeOrmQuotaStore on PostgreSQL', () => {
  let scratch: ScratchPostgres;
  let first: DataSource;
  let second: DataSource;
  beforeAll(async () => {
    scratch = await createScratchPostgres('quota');
    first = await migratedDataSource(scratch.url);
    second = await migratedDataSource(scratch.url);
  });
  afterAll(async () => {
    await first?.destroy();
    await second?.destroy();
    await scratch?.drop();
  });
  runQuotaStoreContract('typeorm postgres', async () => ({
    store: new TypeOrmQuotaStore(first),
    peer: new TypeOrmQuotaStore(second),
  }));
  migratedSchemaCases('postgres', () => first);
});

describePostgres('TypeOrmQuotaStore during a PostgreSQL outage (real TCP proxy)', () => {
  let scratch: ScratchPostgres;
  let proxy: TcpProxy;
  let dataSource: DataSource;
  let store: TypeOrmQuotaStore;

  beforeAll(async () => {
    scratch = await createScratchPostgres('quota_outage');
    proxy = await startTcpProxy(new URL(PG_URL).hostname, Number(new URL(PG_URL).port || 5432));
    const url = new URL(scratch.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    dataSource = await migratedDataSource(url.toString());
    store = new TypeOrmQuotaStore(dataSource, { timeoutMs: 1500 });
    expect(await store.reserve('k', 'u0', 1, 10)).toBe(true);
  });
  afterAll(async () => {
    await dataSource?.destroy().catch(() => undefined);
    await proxy?.close();
    await scratch?.drop();
  });

  it('a hung database times out as StoreUnavailableError (503) on every operation', async () => {
    proxy.stall();
    const started = Date.now();
    for (const { name, error } of await outcomes(store)) {
      expect({ name, error }).toEqual({ name, error: expect.any(StoreUnavailableError) });
    }
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a dropped connection is StoreUnavailableError on every operation', async () => {
    proxy.cut();
    for (const { name, error } of await outcomes(store)) {
      expect({ name, error }).toEqual({ name, error: expect.any(StoreUnavailableError) });
    }
  });
});

describe('TypeOrmQuotaStore on a closed SQLite DataSource', () => {
  it('answers StoreUnavailableError (503) on every operation', async () => {
    const dataSource = await migratedDataSource('sqlite::memory:');
    const store = new TypeOrmQuotaStore(dataSource);
    await dataSource.destroy();
    for (const { name, error } of await outcomes(store)) {
      expect({ name, error }).toEqual({ name, error: expect.any(StoreUnavailableError) });
      expect((error as StoreUnavailableError).status).toBe(503);
    }
  });
});
