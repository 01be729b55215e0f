import { join } from 'node:path';
import { AbstractLogger, DataSource, LogLevel, LogMessage } from 'typeorm';
import { InvalidValiBlobOptionsError } from '../../src/errors/vali-blob.errors';
import { TypeOrmQuotaStore } from '../../src/policy/quota/typeorm-quota.store';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { UploadStatus } from '../../src/sessions/upload-session.model';
import { makeTestSession } from '../../src/testing';
import { describePostgres } from './postgres-gate';
import { createScratchPostgres, migratedDataSource, ScratchPostgres, scratchDir } from './typeorm-test-db';

/** Collects the SQL a DataSource runs, to prove `deleteExpired` is one statement. */
class StatementLog extends AbstractLogger {
  readonly statements: string[] = [];
  protected writeLog(level: LogLevel, message: LogMessage | LogMessage[]): void {
    for (const m of Array.isArray(message) ? message : [message]) {
      if (m.type === 'query') this.statements.push(String(m.message));
    }
  }
}

describe('TypeOrmSessionStore / TypeOrmQuotaStore partition option', () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await migratedDataSource('sqlite::memory:');
  });
  afterAll(async () => dataSource?.destroy());

  it.each([[''], ['a b'], ['a:b'], ['-lead'], ['x'.repeat(65)], [42], [null]])(
    'refuses partition %p with InvalidValiBlobOptionsError',
    (partition) => {
      const options = { partition: partition as string };
      expect(() => new TypeOrmSessionStore(dataSource, options)).toThrow(InvalidValiBlobOptionsError);
      expect(() => new TypeOrmQuotaStore(dataSource, options)).toThrow(InvalidValiBlobOptionsError);
    },
  );

  it('accepts letters, digits, dot, underscore and dash up to 64 characters', () => {
    for (const partition of ['tenant-1.prod_eu', 'A', 'x'.repeat(64)]) {
      expect(() => new TypeOrmSessionStore(dataSource, { partition })).not.toThrow();
      expect(() => new TypeOrmQuotaStore(dataSource, { partition })).not.toThrow();
    }
  });
});

/** Shared checks on one database: cleanup locks and quota counts of two partitions and the unpartitioned space. */
function partitionBackendCases(label: string, open: () => Promise<DataSource>, close: () => Promise<void>) {
  describe(`partitioned stores on ${label}`, () => {
    let dataSource: DataSource;
    beforeAll(async () => {
      dataSource = await open();
    });
    afterAll(close);

    it('each partition has its own cleanup lock; two stores of one partition exclude each other', async () => {
      const locks = [
        new TypeOrmSessionStore(dataSource, { partition: 'lock-a' }),
        new TypeOrmSessionStore(dataSource, { partition: 'lock-b' }),
        new TypeOrmSessionStore(dataSource),
        new TypeOrmSessionStore(dataSource, { partition: 'lock-a' }),
      ].map((store) => store.createLocks().cleanupLock);
      try {
        const [a, b, plain] = await Promise.all(locks.slice(0, 3).map((lock) => lock.tryAcquire()));
        // Neither partition skips the other's (or the unpartitioned app's) cleanup run...
        expect([a, b, plain].every((handle) => handle !== null)).toBe(true);
        // ...but a second instance of partition lock-a does.
        expect(await locks[3].tryAcquire()).toBeNull();
        await a!.release();
        const again = await locks[3].tryAcquire();
        expect(again).not.toBeNull();
        for (const handle of [again, b, plain]) await handle!.release();
      } finally {
        for (const lock of locks) await lock.close();
      }
    });

    it('quota counts of the same key never mix between partitions', async () => {
      const [a, b, plain] = [
        new TypeOrmSessionStore(dataSource, { partition: 'quota-a' }),
        new TypeOrmSessionStore(dataSource, { partition: 'quota-b' }),
        new TypeOrmSessionStore(dataSource),
      ].map((store) => store.createQuotaStore());
      const id = () => makeTestSession().uploadId;
      // 80 of 100 bytes each: mixed counts would refuse the second and third.
      expect(await a.reserve('alice', id(), 80, 100)).toBe(true);
      expect(await b.reserve('alice', id(), 80, 100)).toBe(true);
      expect(await plain.reserve('alice', id(), 80, 100)).toBe(true);
      expect(await a.reserve('alice', id(), 30, 100)).toBe(false);
      await a.commit('alice', id(), 'same/path', 7);
      await b.commit('alice', id(), 'same/path', 9);
      await a.forgetBlob('alice', 'same/path');
      expect(await a.usage('alice')).toEqual({ key: 'alice', usedBytes: 0, reservedBytes: 80 });
      expect(await b.usage('alice')).toEqual({ key: 'alice', usedBytes: 9, reservedBytes: 80 });
      expect(await plain.usage('alice')).toEqual({ key: 'alice', usedBytes: 0, reservedBytes: 80 });
    });

    it('deleteExpired is one DELETE statement scoped to the partition', async () => {
      const log = dataSource.logger as StatementLog;
      const store = new TypeOrmSessionStore(dataSource, { partition: 'bulk' });
      const now = Date.now();
      const tombstones = Array.from({ length: 30 }, () =>
        makeTestSession({ status: UploadStatus.Complete, expiresAt: now - 1000 }),
      );
      for (const s of tombstones) await store.save(s);
      const other = makeTestSession({ status: UploadStatus.Complete, expiresAt: now - 1000 });
      await new TypeOrmSessionStore(dataSource).save(other);
      log.statements.length = 0;
      expect(await store.deleteExpired(now)).toBe(30);
      expect(log.statements.filter((sql) => !/^(BEGIN|COMMIT|START TRANSACTION)/i.test(sql))).toEqual([
        expect.stringMatching(/^DELETE FROM "valiblob_upload_sessions" WHERE "partition" = /),
      ]);
      expect(await new TypeOrmSessionStore(dataSource).get(other.uploadId)).toEqual(other);
    });
  });
}

const tmp = scratchDir('partition-store');
let sqlite: DataSource | undefined;
partitionBackendCases(
  'a SQLite file',
  async () => {
    sqlite = await migratedDataSource(`sqlite:${join(tmp.dir, 'p.sqlite')}`, { logger: new StatementLog(['query']) });
    return sqlite;
  },
  async () => {
    await sqlite?.destroy();
    tmp.cleanup();
  },
);

describePostgres('on PostgreSQL', () => {
  let scratch: ScratchPostgres;
  let dataSource: DataSource | undefined;
  partitionBackendCases(
    'PostgreSQL',
    async () => {
      scratch = await createScratchPostgres('partition_store');
      dataSource = await migratedDataSource(scratch.url, { logger: new StatementLog(['query']) });
      return dataSource;
    },
    async () => {
      await dataSource?.destroy();
      await scratch?.drop();
    },
  );
});
