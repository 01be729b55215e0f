import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerProcess, startServer } from '../support/server-process';
import { describePostgres } from './postgres-gate';
import { RestUploadClient, sha256 } from './rest-client';
import { createScratchPostgres, ScratchPostgres, scratchDir } from './typeorm-test-db';

const CHUNK = 32 * 1024;
const CHUNKS = 10;

describePostgres('two server processes sharing one PostgreSQL database and one storage directory', () => {
  let scratch: ScratchPostgres;
  const tmp = scratchDir('e2e-two');
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    scratch = await createScratchPostgres('e2e_two');
    const env = { DATABASE_URL: scratch.url, STORAGE_DIR: join(tmp.dir, 'blobs') };
    // One after the other: both run the migrations at start, the second finds them applied.
    servers.push(await startServer(env));
    servers.push(await startServer(env));
  }, 120_000);

  afterAll(async () => {
    for (const server of servers) await server.kill();
    await scratch?.drop();
    tmp.cleanup();
  });

  it('take alternate chunks of one upload and the result is byte-exact', async () => {
    const [a, b] = servers.map((s) => new RestUploadClient(s.url));
    const data = randomBytes(CHUNK * CHUNKS);
    const { uploadId, path } = await a.create(data.length, `e2e/two-${randomBytes(4).toString('hex')}.bin`);
    for (let i = 0; i < CHUNKS; i++) {
      const api = i % 2 === 0 ? b : a; // B writes first: it never saw the create, only the shared database did
      const offset = i * CHUNK;
      expect((await api.status(uploadId)).uploadedBytes).toBe(offset);
      expect((await api.chunk(uploadId, offset, data.subarray(offset, offset + CHUNK))).uploadedBytes).toBe(
        offset + CHUNK,
      );
    }
    // A stale offset sent to the other instance is refused with the shared, current offset.
    const stale = await fetch(`${a.base}/uploads/${uploadId}/chunks/0`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(1),
    });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ code: 'OFFSET_MISMATCH', expectedOffset: data.length });

    const done = await b.complete(uploadId);
    expect(done.session.checksum).toBe(sha256(data));
    expect(readFileSync(join(tmp.dir, 'blobs', path)).equals(data)).toBe(true);
  }, 120_000);
});
