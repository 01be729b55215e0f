import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig } from '../../src/server/server.config';
import { ServerProcess, startServer } from '../support/server-process';
import { OwnershipClient } from './ownership-client';

/** The runnable server (`npm start`) with AUTH_TOKENS: one owner per token, owner scope on. */
describe('runnable server with AUTH_TOKENS (multi-tenant)', () => {
  let dataDir: string;
  let server: ServerProcess;
  let alice: OwnershipClient;
  let bob: OwnershipClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vb-owners-'));
    server = await startServer({
      STORAGE_DIR: join(dataDir, 'blobs'),
      DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
      AUTH_TOKENS: 'alice:tokenA,bob:tokenB',
    });
    alice = new OwnershipClient(server.url, { Authorization: 'Bearer tokenA' });
    bob = new OwnershipClient(server.url, { Authorization: 'Bearer tokenB' });
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('alice uploads over REST and tus; bob cannot read, see status, overwrite or concatenate', async () => {
    const done = await alice.upload({ path: 'a/x.png' }, Buffer.from('ALICE'));
    expect(done.status).toBe(200);
    expect(done.json.session.path).toBe('a/x.png');
    expect(existsSync(join(dataDir, 'blobs/owners/alice/a/x.png'))).toBe(true);
    expect((await alice.blob('a/x.png')).body.toString()).toBe('ALICE');
    const restId = done.json.session.uploadId as string;

    const tusUrl = await alice.tusUpload(Buffer.from('TUS'), { filename: 't.txt' });
    const tusId = tusUrl.split('/').pop()!;
    expect((await alice.blob(`tus/${tusId}/t.txt`)).body.toString()).toBe('TUS');
    const partial = await alice.tusUpload(Buffer.from('P'), {}, { 'Upload-Concat': 'partial' });

    for (const target of [
      'a/x.png',
      'alice/a/x.png',
      'owners/alice/a/x.png',
      'owners%2Falice%2Fa%2Fx.png',
      '%2e%2e/alice/a/x.png',
      `tus/${tusId}/t.txt`,
      `owners/alice/tus/${tusId}/t.txt`,
    ]) {
      for (const method of ['GET', 'HEAD']) expect([400, 404]).toContain((await bob.blob(target, method)).status);
    }
    expect((await bob.status(restId)).status).toBe(404);
    expect((await bob.tus(tusUrl, 'HEAD')).status).toBe(404);
    expect((await bob.tus(tusUrl, 'GET')).status).toBe(404);
    expect((await bob.tusCreate({ 'Upload-Concat': `final;${partial}` })).status).toBe(404);
    for (const path of ['a/x.png', 'owners/alice/a/x.png']) {
      expect((await bob.upload({ path, overwrite: true }, Buffer.from('BOB'))).status).toBe(200);
    }
    expect((await alice.blob('a/x.png')).body.toString()).toBe('ALICE');
    expect((await bob.blob('a/x.png')).body.toString()).toBe('BOB');
  }, 60_000);

  it('no token or an unknown token is 401', async () => {
    expect((await new OwnershipClient(server.url).create({ totalSize: 1 })).status).toBe(401);
    expect((await new OwnershipClient(server.url, { Authorization: 'Bearer nope' }).blob('a/x.png')).status).toBe(401);
  });

  it('AUTH_TOKENS is validated: pairs, unique owners and tokens, not mixed with AUTH_TOKEN', () => {
    expect(loadServerConfig({ AUTH_TOKENS: 'alice:a, bob:b' }).ownerTokens).toEqual([
      { owner: 'alice', token: 'a' },
      { owner: 'bob', token: 'b' },
    ]);
    expect(loadServerConfig({}).ownerTokens).toBeNull();
    for (const bad of ['alice', 'alice:', '../x:t', 'a:t,a:u', 'a:t,b:t']) {
      expect(() => loadServerConfig({ AUTH_TOKENS: bad })).toThrow(/AUTH_TOKENS/);
    }
    expect(() => loadServerConfig({ AUTH_TOKENS: 'a:t', AUTH_TOKEN: 'x' })).toThrow(/not both/);
  });
});
