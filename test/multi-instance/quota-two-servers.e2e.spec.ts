import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { httpRequest } from '../support/http-client';
import { REDIS_URL } from '../support/services';
import { ServerProcess, startServer } from '../support/server-process';
import { describePostgres } from '../typeorm/postgres-gate';
import { createScratchPostgres, ScratchPostgres, scratchDir } from '../typeorm/typeorm-test-db';

const QUOTA = 1000;
const EACH = 100;

/**
 * Two server processes, one session store, one owner racing for the last bytes of a quota: the reservation is
 * atomic in the store's database, so exactly QUOTA / EACH creations succeed across both instances.
 */
async function race(servers: ServerProcess[], owner: string): Promise<number[]> {
  const attempts = Array.from({ length: 20 }, (_, i) =>
    httpRequest(`${servers[i % 2].url}/uploads`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${owner}-token` },
      body: JSON.stringify({ totalSize: EACH, path: `race/${i}.bin` }),
    }),
  );
  return (await Promise.all(attempts)).map((res) => res.status);
}

describePostgres('quota across two server processes on one PostgreSQL database', () => {
  let scratch: ScratchPostgres;
  const tmp = scratchDir('quota-two');
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    scratch = await createScratchPostgres('quota_two');
    const env = {
      DATABASE_URL: scratch.url,
      STORAGE_DIR: join(tmp.dir, 'blobs'),
      AUTH_TOKENS: 'alice:alice-token',
      QUOTA_BYTES: String(QUOTA),
    };
    servers.push(await startServer(env));
    servers.push(await startServer(env));
  }, 120_000);

  afterAll(async () => {
    for (const server of servers) await server.kill();
    await scratch?.drop();
    tmp.cleanup();
  });

  it('exactly quota / size creations win; the rest are 413 QUOTA_EXCEEDED', async () => {
    const statuses = await race(servers, 'alice');
    expect(statuses.filter((s) => s === 201)).toHaveLength(QUOTA / EACH);
    expect(statuses.filter((s) => s === 413)).toHaveLength(20 - QUOTA / EACH);
  }, 60_000);
});

describe('quota across two server processes on one Redis', () => {
  const tmp = scratchDir('quota-two-redis');
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    const env = {
      REDIS_URL,
      REDIS_KEY_PREFIX: `vbtest:quota2:${randomBytes(4).toString('hex')}:`,
      STORAGE_DIR: join(tmp.dir, 'blobs'),
      AUTH_TOKENS: 'bob:bob-token',
      QUOTA_BYTES: String(QUOTA),
    };
    servers.push(await startServer(env));
    servers.push(await startServer(env));
  }, 120_000);

  afterAll(async () => {
    for (const server of servers) await server.kill();
    tmp.cleanup();
  });

  it('exactly quota / size creations win; the rest are 413 QUOTA_EXCEEDED', async () => {
    const statuses = await race(servers, 'bob');
    expect(statuses.filter((s) => s === 201)).toHaveLength(QUOTA / EACH);
    expect(statuses.filter((s) => s === 413)).toHaveLength(20 - QUOTA / EACH);
  }, 60_000);
});
