import { Test, TestingModule } from '@nestjs/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { ResumableUploadService, ValiBlobModule } from '../../src';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { migratedDataSource } from '../typeorm/typeorm-test-db';

/**
 * A chunk takes the free lock before reading the session only for uploads this instance wrote lately: taking a
 * SQL lock leaves a row, and made-up ids must not be able to grow the lock table.
 */
describe('chunk lock-first path (SQLite sessions and SQL locks)', () => {
  let dir: string;
  let dataSource: DataSource;
  let moduleRef: TestingModule;
  let uploads: ResumableUploadService;

  const lockRows = async () =>
    Number((await dataSource.query('SELECT COUNT(*) AS n FROM valiblob_upload_locks'))[0].n as number);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vb-lockfirst-'));
    dataSource = await migratedDataSource(`sqlite:${join(dir, 'sessions.sqlite')}`);
    moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { local: { root: join(dir, 'files') } },
          sessionStore: new TypeOrmSessionStore(dataSource),
          http: { tus: false, rest: false },
        }),
      ],
    }).compile();
    uploads = moduleRef.get(ResumableUploadService);
  });

  afterEach(async () => {
    await moduleRef.close();
    await dataSource.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers chunks to unknown ids 404 without ever writing a lock row', async () => {
    for (let i = 0; i < 20; i++) {
      const chunk = uploads.uploadChunk({ uploadId: randomUUID(), offset: 0, body: Readable.from([Buffer.alloc(10)]) });
      await expect(chunk).rejects.toMatchObject({ status: 404 });
    }
    expect(await lockRows()).toBe(0);
  });

  it('still locks every chunk of a real upload (one row per upload), with the data intact', async () => {
    const data = randomBytes(4096);
    const { uploadId } = await uploads.start({ totalSize: data.length, owner: 'alice' });
    for (let offset = 0; offset < data.length; offset += 1024) {
      const piece = data.subarray(offset, offset + 1024);
      await uploads.uploadChunk({ uploadId, offset, body: Readable.from([piece]), owner: 'alice' });
    }
    // Another owner's chunk to the same (recently written) id: refused under the lock, nothing stored.
    await expect(
      uploads.uploadChunk({ uploadId, offset: 4096, body: Readable.from([Buffer.alloc(1)]), owner: 'mallory' }),
    ).rejects.toMatchObject({ status: 404 });
    expect(await lockRows()).toBe(1);
    expect((await uploads.complete(uploadId, { owner: 'alice' })).session.uploadedBytes).toBe(4096);
  });
});
