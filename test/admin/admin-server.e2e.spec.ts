import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest } from '../support/http-client';
import { ServerProcess, startServer } from '../support/server-process';
import { fileExists } from './admin-fixture';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const JSON_TYPE = { 'Content-Type': 'application/json' };

/** The runnable server with ADMIN=on: /admin/uploads behind ADMIN_TOKEN; owner tokens are no admin tokens. */
describe('runnable server with ADMIN=on', () => {
  let dataDir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vb-admin-server-'));
    server = await startServer({
      STORAGE_DIR: join(dataDir, 'blobs'),
      DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
      AUTH_TOKENS: 'alice:alice-token,bob:bob-token',
      ADMIN: 'on',
      ADMIN_TOKEN: 'admin-token',
    });
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Start an upload over REST as the owner of `token`, with `bytes` written. */
  async function upload(token: string, name: string, bytes: number): Promise<string> {
    const created = await httpRequest(`${server.url}/uploads`, {
      method: 'POST',
      headers: { ...JSON_TYPE, ...bearer(token) },
      body: JSON.stringify({ totalSize: 100, path: name }),
    });
    expect(created.status).toBe(201);
    if (bytes > 0) {
      const put = await httpRequest(`${server.url}/uploads/${created.json.uploadId}/chunks/0`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream', ...bearer(token) },
        body: Buffer.alloc(bytes, 7),
      });
      expect(put.status).toBe(200);
    }
    return created.json.uploadId;
  }
  const stagingOf = (id: string) => join(dataDir, 'blobs', '.valiblob', 'staging', `${id}.parts`);

  it("lists and purges one owner's leftovers; owner tokens get 403, no token 401", async () => {
    const a1 = await upload('alice-token', 'a/one.bin', 30);
    const a2 = await upload('alice-token', 'a/two.bin', 0);
    const b1 = await upload('bob-token', 'b/one.bin', 20);
    expect(await fileExists(stagingOf(a1))).toBe(true);

    const listed = await httpRequest(`${server.url}/admin/uploads?ownerId=alice`, { headers: bearer('admin-token') });
    expect(listed.status).toBe(200);
    expect(listed.json.items.map((item: { uploadId: string }) => item.uploadId).sort()).toEqual([a1, a2].sort());
    // Stored paths: AUTH_TOKENS turns owner scope on, so alice's uploads live under her prefix.
    expect(listed.json.items[0]).toMatchObject({ ownerId: 'alice', path: expect.stringMatching(/alice/) });

    for (const [headers, status, code] of [
      [bearer('alice-token'), 403, 'FORBIDDEN'],
      [bearer('bob-token'), 403, 'FORBIDDEN'],
      [{}, 401, 'UNAUTHORIZED'],
      [bearer('wrong'), 401, 'UNAUTHORIZED'],
    ] as const) {
      const refused = await httpRequest(`${server.url}/admin/uploads`, { headers });
      expect([status, refused.status, refused.json?.code]).toEqual([status, status, code]);
      const purgeRefused = await httpRequest(`${server.url}/admin/uploads/purge`, {
        method: 'POST',
        headers: { ...JSON_TYPE, ...headers },
        body: JSON.stringify({ filter: { ownerId: 'bob' }, mode: 'delete' }),
      });
      expect(purgeRefused.status).toBe(status);
    }

    const purged = await httpRequest(`${server.url}/admin/uploads/purge`, {
      method: 'POST',
      headers: { ...JSON_TYPE, ...bearer('admin-token') },
      body: JSON.stringify({ filter: { ownerId: 'alice' }, mode: 'delete' }),
    });
    expect(purged.status).toBe(200);
    expect(purged.json).toMatchObject({ matched: 2, aborted: 2, deleted: 2, locked: 0, failed: [] });
    expect(await fileExists(stagingOf(a1))).toBe(false);
    for (const id of [a1, a2]) {
      expect((await httpRequest(`${server.url}/uploads/${id}`, { headers: bearer('alice-token') })).status).toBe(404);
    }
    const bob = await httpRequest(`${server.url}/uploads/${b1}`, { headers: bearer('bob-token') });
    expect(bob.json).toMatchObject({ uploadedBytes: 20, status: 'InProgress' });
    expect(await fileExists(stagingOf(b1))).toBe(true);
  });

  it('refuses to start with ADMIN=on and no token, naming the variables', async () => {
    await expect(startServer({ ADMIN: 'on', STORAGE_DIR: join(dataDir, 'x') })).rejects.toThrow(
      /ADMIN=on needs ADMIN_TOKEN \(or AUTH_TOKEN\)/,
    );
    await expect(startServer({ ADMIN: 'on', AUTH_TOKENS: 'alice:a', STORAGE_DIR: join(dataDir, 'y') })).rejects.toThrow(
      /ADMIN=on needs ADMIN_TOKEN/,
    );
  }, 90_000);

  it('uses AUTH_TOKEN as the admin token when ADMIN_TOKEN is not set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vb-admin-server2-'));
    const other = await startServer({
      STORAGE_DIR: join(dir, 'blobs'),
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      AUTH_TOKEN: 'shared-token',
      ADMIN: 'on',
    });
    try {
      const listed = await httpRequest(`${other.url}/admin/uploads`, { headers: bearer('shared-token') });
      expect(listed.status).toBe(200);
      expect(listed.json).toEqual({ items: [], nextCursor: null });
      expect((await httpRequest(`${other.url}/admin/uploads`)).status).toBe(401);
    } finally {
      await other.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
