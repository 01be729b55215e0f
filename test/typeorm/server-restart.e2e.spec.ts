import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerProcess, startServer } from '../support/server-process';
import { describePostgres } from './postgres-gate';
import { RestUploadClient, sha256 } from './rest-client';
import { createScratchPostgres, ScratchPostgres, scratchDir } from './typeorm-test-db';

const CHUNK = 64 * 1024;
const TOTAL = 6 * CHUNK;

/**
 * The durable-session promise end to end: the real server (`npm start`'s entry) is SIGKILLed half-way through an
 * upload, started again on the same database and storage directory, and the upload resumes at the stored offset.
 */
async function killAndResume(databaseUrl: string, storageDir: string, running: Set<ServerProcess>): Promise<void> {
  const env = { DATABASE_URL: databaseUrl, STORAGE_DIR: storageDir };
  const data = randomBytes(TOTAL);

  const first = await startServer(env);
  running.add(first);
  const api1 = new RestUploadClient(first.url);
  const { uploadId, path } = await api1.create(TOTAL, `e2e/${randomName()}.bin`);
  for (let offset = 0; offset < TOTAL / 2; offset += CHUNK)
    await api1.chunk(uploadId, offset, data.subarray(offset, offset + CHUNK));
  expect((await api1.status(uploadId)).uploadedBytes).toBe(TOTAL / 2);
  await first.kill(); // SIGKILL: no shutdown hooks, no flush
  running.delete(first);

  const second = await startServer(env);
  running.add(second);
  const api2 = new RestUploadClient(second.url);
  const resumed = await api2.status(uploadId);
  expect(resumed).toMatchObject({ uploadedBytes: TOTAL / 2, status: 'InProgress', totalSize: TOTAL });
  for (let offset = resumed.uploadedBytes; offset < TOTAL; offset += CHUNK) {
    await api2.chunk(uploadId, offset, data.subarray(offset, offset + CHUNK));
  }
  const done = await api2.complete(uploadId);
  expect(done.session.status).toBe('Complete');
  expect(done.session.checksum).toBe(sha256(data));
  const stored = readFileSync(join(storageDir, path));
  expect(stored.length).toBe(TOTAL);
  expect(sha256(stored)).toBe(sha256(data));
  await second.stop();
  running.delete(second);

  function randomName(): string {
    return randomBytes(6).toString('hex');
  }
}

describe('server restart (SIGKILL) keeps sessions', () => {
  const running = new Set<ServerProcess>();
  afterEach(async () => {
    for (const server of running) await server.kill();
    running.clear();
  });

  it('on SQLite (the default database): offset preserved, upload finishes byte-exact', async () => {
    const tmp = scratchDir('e2e-sqlite');
    try {
      await killAndResume(`sqlite:${join(tmp.dir, 'data', 'vali-blob.sqlite')}`, join(tmp.dir, 'blobs'), running);
    } finally {
      tmp.cleanup();
    }
  }, 120_000);

  describePostgres('on PostgreSQL', () => {
    let scratch: ScratchPostgres;
    beforeAll(async () => {
      scratch = await createScratchPostgres('e2e_restart');
    });
    afterAll(async () => scratch?.drop());

    it('offset preserved, upload finishes byte-exact', async () => {
      const tmp = scratchDir('e2e-pg');
      try {
        await killAndResume(scratch.url, join(tmp.dir, 'blobs'), running);
      } finally {
        tmp.cleanup();
      }
    }, 120_000);
  });
});
