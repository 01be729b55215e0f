import { INestApplication, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { CleanupLock } from '../../src/cleanup/cleanup-lock';
import { PostgresAdvisoryCleanupLock } from '../../src/cleanup/locks/postgres-advisory-cleanup.lock';
import { ProcessCleanupLock } from '../../src/cleanup/locks/process-cleanup.lock';
import { SqlCleanupLock } from '../../src/cleanup/locks/sql-cleanup.lock';
import { MemoryUploadLocker } from '../../src/locking/memory/memory-upload.locker';
import { UploadLocker } from '../../src/locking/upload-locker';
import { RedisCleanupLock, RedisSessionStore, RedisUploadLocker } from '../../src/redis';
import { MemorySessionStore } from '../../src/sessions/memory/memory-session.store';
import { ResumableSessionStore } from '../../src/sessions/resumable-session-store';
import {
  dataSourceOptionsFromUrl,
  SqlUploadLocker,
  VALIBLOB_ENTITIES,
  VALIBLOB_MIGRATIONS,
  VALIBLOB_MIGRATIONS_TABLE,
} from '../../src/typeorm';
import { ValiBlobModule } from '../../src/vali-blob.module';
import { REDIS_URL, serviceAvailable } from '../support/services';
import { describePostgres } from '../typeorm/postgres-gate';
import { RestUploadClient } from '../typeorm/rest-client';
import { createScratchPostgres, scratchDir } from '../typeorm/typeorm-test-db';

/**
 * Issue 12 §1: with no lock configured, the per-upload lock and the cleanup lock follow the session store, so
 * the docs' multi-instance wiring is safe by default; a custom store without shared locks is warned about.
 */

const tmp = scratchDir('lock-defaults');
let app: INestApplication | undefined;
let warn: jest.SpyInstance;

beforeEach(() => {
  warn = jest.spyOn(Logger.prototype, 'warn');
});
afterEach(async () => {
  warn.mockRestore();
  await app?.close();
  app = undefined;
});
afterAll(() => tmp.cleanup());

async function start(module: unknown): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [module as never] }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

function lockWarnings(): string[] {
  return warn.mock.calls.map((call) => String(call[0])).filter((m) => m.includes('offers no shared locks'));
}

/**
 * The app's TypeORM on a SQLite file, with the SQLite driver of the installed TypeORM line (sqlite3 /
 * better-sqlite3).
 */
function sqliteTypeOrm(file: string, extra: Record<string, unknown> = {}) {
  return TypeOrmModule.forRoot({
    ...dataSourceOptionsFromUrl(`sqlite:${join(tmp.dir, file)}`),
    migrations: VALIBLOB_MIGRATIONS,
    migrationsTableName: VALIBLOB_MIGRATIONS_TABLE,
    migrationsRun: true,
    ...extra,
  });
}

async function uploadFourBytes(server: INestApplication): Promise<string> {
  const api = new RestUploadClient(await server.getUrl());
  const { uploadId } = await api.create(4, `defaults/${randomBytes(4).toString('hex')}.bin`);
  await api.chunk(uploadId, 0, Buffer.from('abcd'));
  return uploadId;
}

describe('TypeORM store, forRoot, no lock options', () => {
  it('on SQLite: SQL upload lock and a SQL cleanup lease in the same database file', async () => {
    @Module({
      imports: [
        sqliteTypeOrm('forroot.sqlite', { autoLoadEntities: true }),
        ValiBlobModule.forRoot({
          providers: { local: { root: join(tmp.dir, 'b1') } },
          sessionStore: { type: 'typeorm' },
          cleanup: { enabled: false },
        }),
      ],
    })
    class AppModule {}
    const server = await start(AppModule);
    expect(server.get(UploadLocker)).toBeInstanceOf(SqlUploadLocker);
    expect(server.get(CleanupLock)).toBeInstanceOf(SqlCleanupLock);
    const uploadId = await uploadFourBytes(server);
    const dataSource = server.get(DataSource);
    // The chunk took the lock as a row in the app's database (released after the write).
    expect(await dataSource.query('SELECT owner FROM valiblob_upload_locks WHERE upload_id = ?', [uploadId])).toEqual([
      { owner: null },
    ]);
    // The cleanup lease is a row of the same table and excludes a second holder on the same file.
    const other = new SqlCleanupLock(dataSource);
    const held = await server.get(CleanupLock).tryAcquire();
    expect(held).not.toBeNull();
    expect(await other.tryAcquire()).toBeNull();
    await held!.release();
    const next = await other.tryAcquire();
    expect(next).not.toBeNull();
    await next!.release();
    expect(lockWarnings()).toEqual([]);
  });

  describePostgres('on PostgreSQL', () => {
    it('SQL upload lock and the PostgreSQL advisory cleanup lock', async () => {
      const db = await createScratchPostgres('lockdefaults');
      try {
        @Module({
          imports: [
            TypeOrmModule.forRoot({
              type: 'postgres',
              url: db.url,
              autoLoadEntities: true,
              migrations: VALIBLOB_MIGRATIONS,
              migrationsTableName: VALIBLOB_MIGRATIONS_TABLE,
              migrationsRun: true,
            }),
            ValiBlobModule.forRoot({
              providers: { local: { root: join(tmp.dir, 'b2') } },
              sessionStore: { type: 'typeorm' },
              cleanup: { enabled: false },
            }),
          ],
        })
        class AppModule {}
        const server = await start(AppModule);
        expect(server.get(UploadLocker)).toBeInstanceOf(SqlUploadLocker);
        expect(server.get(CleanupLock)).toBeInstanceOf(PostgresAdvisoryCleanupLock);
        await uploadFourBytes(server);
        await server.close();
        app = undefined;
      } finally {
        await db.drop();
      }
    });
  });
});

describe('TypeORM store with forRootAsync', () => {
  it("works with { type: 'typeorm' } and no recipe; locks follow the database", async () => {
    @Module({
      imports: [
        sqliteTypeOrm('async.sqlite', { entities: VALIBLOB_ENTITIES }),
        ValiBlobModule.forRootAsync({
          useFactory: async () => ({
            providers: { local: { root: join(tmp.dir, 'b3') } },
            sessionStore: { type: 'typeorm' as const },
            cleanup: { enabled: false },
          }),
        }),
      ],
    })
    class AppModule {}
    const server = await start(AppModule);
    const uploadId = await uploadFourBytes(server);
    const dataSource = server.get<DataSource>(getDataSourceToken());
    expect(
      await dataSource.query('SELECT uploaded_bytes FROM valiblob_upload_sessions WHERE upload_id = ?', [uploadId]),
    ).toEqual([{ uploaded_bytes: 4 }]);
    expect(await dataSource.query('SELECT owner FROM valiblob_upload_locks WHERE upload_id = ?', [uploadId])).toEqual([
      { owner: null },
    ]);
    expect(
      await server
        .get(CleanupLock)
        .tryAcquire()
        .then(async (h) => (await h?.release(), h !== null)),
    ).toBe(true);
    expect(
      await dataSource.query("SELECT upload_id FROM valiblob_upload_locks WHERE upload_id LIKE 'cleanup:%'"),
    ).toEqual([{ upload_id: 'cleanup:valiblob' }]);
    expect(lockWarnings()).toEqual([]);
  });

  it('fails bootstrap naming VALIBLOB_ENTITIES when the DataSource lacks the entities', async () => {
    @Module({
      imports: [
        // No entities listed (autoLoadEntities would reuse forFeature registrations of earlier tests in this process).
        sqliteTypeOrm('noentities.sqlite', { entities: [], migrationsRun: false }),
        ValiBlobModule.forRootAsync({
          useFactory: () => ({ sessionStore: { type: 'typeorm' as const }, cleanup: { enabled: false } }),
        }),
      ],
    })
    class AppModule {}
    await expect(start(AppModule)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringMatching(/VALIBLOB_ENTITIES/),
    });
    app = undefined;
  });
});

describe('Redis store recipe, no lock options', () => {
  let available = false;
  let admin: Redis;
  const prefix = `valiblob-test-${randomBytes(4).toString('hex')}:`;
  beforeAll(async () => {
    available = await serviceAvailable('Redis', REDIS_URL);
    if (available) admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    if (!available) return;
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it('Redis upload lock and Redis cleanup lock on the store connection, under the store prefix', async () => {
    if (!available) return;
    @Module({
      imports: [
        ValiBlobModule.forRoot({
          providers: { local: { root: join(tmp.dir, 'b4') } },
          sessionStore: {
            useFactory: () => new RedisSessionStore({ connection: REDIS_URL, keyPrefix: `${prefix}session:` }),
          },
          cleanup: { enabled: false },
        }),
      ],
    })
    class AppModule {}
    const server = await start(AppModule);
    expect(server.get(UploadLocker)).toBeInstanceOf(RedisUploadLocker);
    expect(server.get(CleanupLock)).toBeInstanceOf(RedisCleanupLock);
    const uploadId = await uploadFourBytes(server);
    // The lock's fence counter lives next to the sessions, under the derived `<base>lock:` prefix.
    expect(await admin.exists(`${prefix}lock:{${uploadId}}:fence`)).toBe(1);
    const held = await server.get(CleanupLock).tryAcquire();
    expect(await admin.exists(`${prefix}cleanup-lock`)).toBe(1);
    await held!.release();
    expect(lockWarnings()).toEqual([]);
  });
});

describe('memory and custom stores', () => {
  it('memory store: process-local locks, no warning', async () => {
    const server = await start(
      ValiBlobModule.forRoot({ providers: { local: { root: join(tmp.dir, 'b5') } }, cleanup: { enabled: false } }),
    );
    expect(server.get(UploadLocker)).toBeInstanceOf(MemoryUploadLocker);
    expect(server.get(CleanupLock)).toBeInstanceOf(ProcessCleanupLock);
    expect(lockWarnings()).toEqual([]);
  });

  /** A store that knows nothing about locks (as an app's own store would). */
  class OwnStore extends MemorySessionStore {
    override createLocks(): null {
      return null;
    }
  }

  it('custom store without createLocks(): process-local locks and a bootstrap warning naming the fix', async () => {
    const server = await start(
      ValiBlobModule.forRoot({
        providers: { local: { root: join(tmp.dir, 'b6') } },
        sessionStore: new OwnStore(),
        cleanup: { enabled: false },
      }),
    );
    expect(server.get(ResumableSessionStore)).toBeInstanceOf(OwnStore);
    expect(server.get(UploadLocker)).toBeInstanceOf(MemoryUploadLocker);
    const warnings = lockWarnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/lock\.locker and cleanup\.lock/);
    expect(warnings[0]).toMatch(/scope: 'process'/);
  });

  it("custom store with lock: { scope: 'process' }: no warning", async () => {
    await start(
      ValiBlobModule.forRoot({
        providers: { local: { root: join(tmp.dir, 'b7') } },
        sessionStore: new OwnStore(),
        lock: { scope: 'process' },
        cleanup: { enabled: false },
      }),
    );
    expect(lockWarnings()).toEqual([]);
  });

  it('custom store with both locks named: no warning, the named ones are used', async () => {
    const locker = new MemoryUploadLocker();
    const server = await start(
      ValiBlobModule.forRoot({
        providers: { local: { root: join(tmp.dir, 'b8') } },
        sessionStore: new OwnStore(),
        lock: { locker },
        cleanup: { enabled: false, lock: new ProcessCleanupLock('own') },
      }),
    );
    expect(server.get(UploadLocker)).toBe(locker);
    expect(lockWarnings()).toEqual([]);
  });

  it('rejects an unknown lock.scope', async () => {
    await expect(
      start(ValiBlobModule.forRoot({ lock: { scope: 'cluster' as never }, cleanup: { enabled: false } })),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringMatching(/lock\.scope/) });
    app = undefined;
  });
});
