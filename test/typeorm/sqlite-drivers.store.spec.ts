import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { StoreUnavailableError } from '../../src/errors/vali-blob.errors';
import { SessionAlreadyExistsError } from '../../src/sessions/typeorm/store-errors';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { UploadSessionEntity } from '../../src/sessions/typeorm/upload-session.entity';
import { chooseSqliteDriver, installedTypeOrm } from '../../src/sessions/typeorm/sqlite-driver';
import { makeTestSession, runSessionStoreContract } from '../../src/testing';
import { describePostgres } from './postgres-gate';
import { createScratchPostgres, installedSqliteDrivers, migratedDataSource, scratchDir } from './typeorm-test-db';

const typeorm = installedTypeOrm();
const drivers = installedSqliteDrivers();
/** The driver a plain `sqlite:` URL gets on this line; typeorm-session.store.spec.ts runs the contract on it. */
const lineDefault = chooseSqliteDriver();

it(`every SQLite driver TypeORM ${typeorm.version} supports is installed here under CI`, () => {
  // 0.3 supports both drivers: CI installs both so the non-default one is tested too (better-sqlite3 is a
  // devDependency).
  const expected = typeorm.major >= 1 ? ['better-sqlite3'] : ['sqlite3', 'better-sqlite3'];
  if (process.env.CI === 'true') expect(drivers).toEqual(expected);
  expect(drivers).toContain(lineDefault);
});

describe.each(drivers)('TypeOrmSessionStore on SQLite through %s', (driver) => {
  const tmp = scratchDir(`store-${driver}`);
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await migratedDataSource(`sqlite:${join(tmp.dir, 'sessions.sqlite')}`, {}, { sqliteDriver: driver });
  });
  afterAll(async () => {
    await dataSource?.destroy();
    tmp.cleanup();
  });

  // A duplicate id is a caller bug (SessionAlreadyExistsError), never an outage (503): each driver reports the
  // violation with its own error code (sqlite3: SQLITE_CONSTRAINT, better-sqlite3: SQLITE_CONSTRAINT_PRIMARYKEY).
  it('a duplicate id is SessionAlreadyExistsError, not StoreUnavailableError', async () => {
    expect(dataSource.options.type).toBe(driver === 'sqlite3' ? 'sqlite' : 'better-sqlite3');
    const store = new TypeOrmSessionStore(dataSource);
    const session = makeTestSession();
    await store.save(session);
    const error = await store.save(session).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionAlreadyExistsError);
    expect(error).not.toBeInstanceOf(StoreUnavailableError);
  });

  // The full contract on the driver that is not this line's default (0.3 + better-sqlite3).
  if (driver !== lineDefault) {
    runSessionStoreContract(`typeorm ${driver} file`, async () => {
      await dataSource.getRepository(UploadSessionEntity).clear();
      return { store: new TypeOrmSessionStore(dataSource) };
    });
  }
});

describePostgres('TypeOrmSessionStore on PostgreSQL', () => {
  it('a duplicate id is SessionAlreadyExistsError, not StoreUnavailableError', async () => {
    const scratch = await createScratchPostgres('duplicate');
    const dataSource = await migratedDataSource(scratch.url);
    try {
      const store = new TypeOrmSessionStore(dataSource);
      const session = makeTestSession();
      await store.save(session);
      await expect(store.save(session)).rejects.toBeInstanceOf(SessionAlreadyExistsError);
    } finally {
      await dataSource.destroy();
      await scratch.drop();
    }
  });
});
