import { INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { UploadLocker } from '../../src/locking/upload-locker';
import { ResumableSessionStore } from '../../src/sessions/resumable-session-store';
import {
  dataSourceOptionsFromUrl,
  SqlUploadLocker,
  TypeOrmSessionStore,
  VALIBLOB_MIGRATIONS,
  VALIBLOB_MIGRATIONS_TABLE,
} from '../../src/typeorm';
import { ValiBlobModule } from '../../src/vali-blob.module';
import { RestUploadClient } from './rest-client';
import { scratchDir } from './typeorm-test-db';

describe("ValiBlobModule.forRoot({ sessionStore: { type: 'typeorm' } }) in an autoLoadEntities app", () => {
  const tmp = scratchDir('wiring');
  let app: INestApplication;
  afterAll(async () => {
    await app?.close();
    tmp.cleanup();
  });

  it('registers the entities with forFeature, injects the named DataSource, and serves uploads from it', async () => {
    @Module({
      imports: [
        TypeOrmModule.forRoot({
          // The SQLite driver of the installed TypeORM line (sqlite3 on 0.3, better-sqlite3 on 1.x).
          ...dataSourceOptionsFromUrl(`sqlite:${join(tmp.dir, 'app.sqlite')}`),
          name: 'uploadsDb',
          autoLoadEntities: true, // the app lists no ValiBlob entity itself
          migrations: VALIBLOB_MIGRATIONS,
          migrationsTableName: VALIBLOB_MIGRATIONS_TABLE,
          migrationsRun: true,
        }),
        ValiBlobModule.forRoot({
          providers: { local: { root: join(tmp.dir, 'blobs') } },
          sessionStore: { type: 'typeorm', dataSourceName: 'uploadsDb' },
          lock: {
            locker: {
              useFactory: (ds: DataSource) => new SqlUploadLocker(ds),
              inject: [getDataSourceToken('uploadsDb')],
            },
          },
          cleanup: { enabled: false },
        }),
      ],
    })
    class AppModule {}

    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication();
    await app.listen(0, '127.0.0.1');

    const dataSource = app.get<DataSource>(getDataSourceToken('uploadsDb'));
    expect(dataSource.entityMetadatas.map((m) => m.tableName).sort()).toEqual([
      'valiblob_quota_entries',
      'valiblob_upload_locks',
      'valiblob_upload_sessions',
    ]);
    expect(app.get(ResumableSessionStore)).toBeInstanceOf(TypeOrmSessionStore);
    expect(app.get(UploadLocker)).toBeInstanceOf(SqlUploadLocker);

    const api = new RestUploadClient(await app.getUrl());
    const { uploadId } = await api.create(4, 'wiring/x.bin');
    await api.chunk(uploadId, 0, Buffer.from('abcd'));
    // The session is a row in the app's database, not in memory.
    const rows = await dataSource.query('SELECT uploaded_bytes FROM valiblob_upload_sessions WHERE upload_id = ?', [
      uploadId,
    ]);
    expect(rows).toEqual([{ uploaded_bytes: 4 }]);
    const locks = await dataSource.query('SELECT owner FROM valiblob_upload_locks WHERE upload_id = ?', [uploadId]);
    expect(locks).toEqual([{ owner: null }]); // taken for the write, released after it
  });
});
