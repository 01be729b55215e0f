import { INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptionsFromUrl, VALIBLOB_MIGRATIONS, VALIBLOB_MIGRATIONS_TABLE } from '../../src/typeorm';
import { ValiBlobModule } from '../../src/vali-blob.module';
import { RestUploadClient } from './rest-client';
import { scratchDir } from './typeorm-test-db';

describe("sessionStore: { type: 'typeorm', partition }: apps sharing one database", () => {
  const tmp = scratchDir('module-partition');
  const apps: INestApplication[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
    tmp.cleanup();
  });

  /** One app on the shared SQLite file, in `partition` (undefined = unpartitioned), over real HTTP. */
  async function boot(name: string, partition: string | undefined): Promise<INestApplication> {
    @Module({
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptionsFromUrl(`sqlite:${join(tmp.dir, 'shared.sqlite')}`),
          autoLoadEntities: true,
          migrations: VALIBLOB_MIGRATIONS,
          migrationsTableName: VALIBLOB_MIGRATIONS_TABLE,
          migrationsRun: true,
        }),
        ValiBlobModule.forRoot({
          providers: { local: { root: join(tmp.dir, name) } },
          sessionStore: { type: 'typeorm', partition },
          cleanup: { enabled: false },
        }),
      ],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: ['error'] });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return app;
  }

  it('an upload of one app is unknown (404) to the apps of other partitions and to the unpartitioned one', async () => {
    const [a, b, plain] = [await boot('a', 'app-a'), await boot('b', 'app-b'), await boot('plain', undefined)];
    const clients = await Promise.all([a, b, plain].map(async (app) => new RestUploadClient(await app.getUrl())));
    const { uploadId } = await clients[0].create(4, 'shared/x.bin');
    await clients[0].chunk(uploadId, 0, Buffer.from('ab'));
    for (const other of [b, plain]) {
      const res = await fetch(`${await other.getUrl()}/uploads/${uploadId}`);
      expect(res.status).toBe(404);
    }
    expect(await clients[0].status(uploadId)).toMatchObject({ uploadedBytes: 2 });
    const rows = await a
      .get<DataSource>(getDataSourceToken())
      .query('SELECT "partition" FROM valiblob_upload_sessions WHERE upload_id = ?', [uploadId]);
    expect(rows).toEqual([{ partition: 'app-a' }]);
  });

  it('refuses an invalid partition at bootstrap with INVALID_OPTIONS', async () => {
    await expect(boot('bad', 'no spaces')).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});
