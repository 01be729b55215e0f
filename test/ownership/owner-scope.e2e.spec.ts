import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidValiBlobOptionsError } from '../../src/errors/vali-blob.errors';
import { AuthorizeContext, resolveValiBlobOptions } from '../../src/vali-blob.options';
import { startTusApp, TusTestApp } from '../tus/tus-app';
import { OwnershipClient } from './ownership-client';

/** `x-user` names the owner; no header = anonymous (`true`), as an app with optional login would answer. */
function xUser(seen: AuthorizeContext[] = []) {
  return (context: AuthorizeContext) => {
    seen.push({ ...context, request: undefined });
    const user = (context.request as { headers: Record<string, string | undefined> }).headers['x-user'];
    return user ? { ownerId: user } : true;
  };
}

const HTTP = { tus: { path: 'files' }, rest: { path: 'uploads' }, blobs: { path: 'blobs' } } as const;

describe('owner scope over real HTTP (REST, tus, /blobs)', () => {
  let t: TusTestApp;
  let alice: OwnershipClient;
  let bob: OwnershipClient;
  let anonymous: OwnershipClient;
  const seen: AuthorizeContext[] = [];
  const secret = Buffer.from('alice secret bytes');

  beforeAll(async () => {
    t = await startTusApp('express', { authorize: xUser(seen), ownerScope: true }, HTTP);
    alice = new OwnershipClient(t.origin, { 'x-user': 'alice' });
    bob = new OwnershipClient(t.origin, { 'x-user': 'bob' });
    anonymous = new OwnershipClient(t.origin);
  });
  afterAll(async () => t?.close());

  it('REST: alice sends and sees paths relative to her space; the blob is stored under owners/alice/', async () => {
    const created = await alice.create({ totalSize: secret.length, path: 'a/x.png' });
    expect(created.status).toBe(201);
    expect(created.json.path).toBe('a/x.png');
    const id = created.json.uploadId as string;
    const put = await alice.put(id, 0, secret);
    expect(put.json.path).toBe('a/x.png');
    expect((await alice.status(id)).json.path).toBe('a/x.png');
    const done = await alice.complete(id);
    expect(done.status).toBe(200);
    expect(done.json.session.path).toBe('a/x.png');
    expect(done.json.blob.path).toBe('a/x.png');
    expect(await readFile(join(t.root, 'owners/alice/a/x.png'))).toEqual(secret);
    expect(existsSync(join(t.root, 'a/x.png'))).toBe(false);
    const read = await alice.blob('a/x.png');
    expect(read.status).toBe(200);
    expect(read.body).toEqual(secret);
    // Without a path the default `uploads/<id>` lies in her space as well.
    const unnamed = await alice.upload({}, Buffer.from('u'));
    expect(unnamed.json.session.path).toMatch(/^uploads\/[\w-]+$/);
    expect(existsSync(join(t.root, 'owners/alice', unnamed.json.session.path))).toBe(true);
  });

  it("bob cannot read alice's blob at any spelling (GET and HEAD)", async () => {
    const spellings = [
      'a/x.png',
      'alice/a/x.png',
      'owners/alice/a/x.png',
      'owners%2Falice%2Fa%2Fx.png',
      'owners/alice/a%2Fx.png',
      '%61/x.png',
      '..%2F..%2Fowners/alice/a/x.png',
      '%2e%2e/%2e%2e/owners/alice/a/x.png',
      '..%2Falice%2Fa%2Fx.png',
    ];
    for (const target of spellings) {
      for (const method of ['GET', 'HEAD']) {
        const res = await bob.blob(target, method);
        expect([400, 404]).toContain(res.status);
        expect(res.body.toString()).not.toContain('alice secret');
      }
    }
    expect((await alice.blob('%61/x.png')).status).toBe(200);
  });

  it("bob cannot see, write, complete or abort alice's upload, nor overwrite her blob", async () => {
    const id = await alice.stage({ path: 'b/y.bin' }, Buffer.from('abc'));
    expect((await bob.status(id)).status).toBe(404);
    expect((await bob.put(id, 3, Buffer.from(''))).status).toBe(404);
    expect((await bob.complete(id)).status).toBe(404);
    expect((await bob.abort(id)).status).toBe(404);
    expect((await alice.complete(id)).status).toBe(200);

    // Same path, "alice's" spelling, overwrite: all land in bob's own space; alice's blob stays.
    for (const path of ['b/y.bin', 'owners/alice/b/y.bin', 'alice/b/y.bin']) {
      const res = await bob.upload({ path, overwrite: true }, Buffer.from('BOB'));
      expect(res.status).toBe(200);
      expect(res.json.session.path).toBe(path);
    }
    expect((await bob.create({ totalSize: 1, path: '../alice/b/y.bin', overwrite: true })).status).toBe(400);
    expect(await readFile(join(t.root, 'owners/alice/b/y.bin'), 'utf8')).toBe('abc');
    expect(await readFile(join(t.root, 'owners/bob/owners/alice/b/y.bin'), 'utf8')).toBe('BOB');
    expect((await alice.blob('b/y.bin')).body.toString()).toBe('abc');
  });

  it('tus: alice uploads; bob gets 404 on HEAD/PATCH/GET/DELETE and cannot concatenate her partial', async () => {
    const url = await alice.tusUpload(Buffer.from('tus bytes'), { filename: 'photo.png' });
    const id = url.split('/').pop()!;
    expect(existsSync(join(t.root, 'owners/alice/tus', id, 'photo.png'))).toBe(true);
    expect((await alice.blob(`tus/${id}/photo.png`)).body.toString()).toBe('tus bytes');
    expect((await bob.blob(`tus/${id}/photo.png`)).status).toBe(404);
    for (const method of ['HEAD', 'GET', 'DELETE']) expect((await bob.tus(url, method)).status).toBe(404);
    const patchHeaders = { 'Upload-Offset': '9', 'Content-Type': 'application/offset+octet-stream' };
    const patch = await bob.tus(url, 'PATCH', patchHeaders, Buffer.from(''));
    expect(patch.status).toBe(404);
    expect((await alice.tus(url, 'GET')).body.toString()).toBe('tus bytes');

    const partial = await alice.tusUpload(Buffer.from('part'), {}, { 'Upload-Concat': 'partial' });
    const stolen = await bob.tusCreate({ 'Upload-Concat': `final;${partial}` });
    expect(stolen.status).toBe(404);
    const own = await alice.tusCreate({ 'Upload-Concat': `final;${partial}` });
    expect(own.status).toBe(201);
  });

  it('anonymous callers are refused (401) under owner scope; unsafe owner ids are refused (403)', async () => {
    expect((await anonymous.create({ totalSize: 1, path: 'z' })).status).toBe(401);
    expect((await anonymous.blob('a/x.png')).status).toBe(401);
    expect((await anonymous.tusCreate({ 'Upload-Length': '1' })).status).toBe(401);
    for (const user of ['..', '.hidden', 'a/b', 'a%2Fb', 'x y']) {
      const res = await new OwnershipClient(t.origin, { 'x-user': user }).create({ totalSize: 1, path: 'z' });
      expect(res.status).toBe(403);
    }
  });

  it('authorize sees the action and, on create, the path as sent, the provider and the conflict flags', async () => {
    seen.length = 0;
    await alice.create({ totalSize: 1, path: 'ctx/one.txt', provider: 'local', conflict: 'rename' });
    await alice.create({ totalSize: 1, path: 'ctx/two.txt', overwrite: true });
    await alice.tusCreate({ 'Upload-Length': '1' });
    const creates = seen.filter((c) => c.action === 'create');
    expect(creates[0]).toMatchObject({ path: 'ctx/one.txt', provider: 'local', conflict: 'rename', overwrite: false });
    expect(creates[1]).toMatchObject({ path: 'ctx/two.txt', conflict: 'overwrite', overwrite: true });
    expect(creates[2]).toMatchObject({ conflict: 'fail', overwrite: false });
    expect(creates[2].path).toBeUndefined();
    seen.length = 0;
    await bob.blob('ctx/one.txt');
    expect(seen[0]).toMatchObject({ action: 'read', path: 'ctx/one.txt' });
  });

  it('a custom prefix function decides where each space lives', async () => {
    const ownerScope = { prefix: (id: string) => `tenants/${id}/files/` };
    const custom = await startTusApp('express', { authorize: xUser(), ownerScope }, HTTP);
    try {
      const client = new OwnershipClient(custom.origin, { 'x-user': 'carol' });
      expect((await client.upload({ path: 'c.txt' }, Buffer.from('c'))).json.session.path).toBe('c.txt');
      expect(existsSync(join(custom.root, 'tenants/carol/files/c.txt'))).toBe(true);
    } finally {
      await custom.close();
    }
  });

  it('a prefix function that fails for one owner is a server fault (500), not a client 400', async () => {
    // Passes the bootstrap probe (other owner ids), then returns an escaping prefix for one owner only.
    const ownerScope = { prefix: (id: string) => (id === 'mallory' ? '../outside/' : `owners/${id}/`) };
    const custom = await startTusApp('express', { authorize: xUser(), ownerScope }, HTTP);
    try {
      const client = new OwnershipClient(custom.origin, { 'x-user': 'mallory' });
      const created = await client.create({ totalSize: 1, path: 'm.txt' });
      expect(created.status).toBe(500);
      expect(created.json.code).toBe('INTERNAL_ERROR');
      expect(existsSync(join(custom.root, '../outside'))).toBe(false);
    } finally {
      await custom.close();
    }
  });

  it('options: owner scope needs an authorize hook; prefix must be a function', () => {
    expect(() => resolveValiBlobOptions({ ownerScope: true })).toThrow(InvalidValiBlobOptionsError);
    const authorize = () => true;
    const badPrefix = { prefix: 'x' as never };
    expect(() => resolveValiBlobOptions({ authorize, ownerScope: badPrefix })).toThrow(/ownerScope.prefix/);
    expect(resolveValiBlobOptions({ authorize, ownerScope: true }).ownerScope?.prefix('a')).toBe('owners/a/');
    expect(resolveValiBlobOptions({}).ownerScope).toBeNull();
  });
});

describe('session visibility without owner scope', () => {
  let t: TusTestApp;
  beforeAll(async () => {
    t = await startTusApp('express', { authorize: xUser() }, HTTP);
  });
  afterAll(async () => t?.close());

  it('an ownerless session is invisible to an authenticated owner; an owned one to anonymous callers', async () => {
    const anonymous = new OwnershipClient(t.origin);
    const alice = new OwnershipClient(t.origin, { 'x-user': 'alice' });
    const ownerless = await anonymous.stage({ path: 'anon/1.bin' }, Buffer.from('x'));
    expect((await alice.status(ownerless)).status).toBe(404);
    expect((await alice.complete(ownerless)).status).toBe(404);
    expect((await alice.abort(ownerless)).status).toBe(404);
    expect((await anonymous.status(ownerless)).status).toBe(200);
    const owned = await alice.stage({ path: 'alice/1.bin' }, Buffer.from('y'));
    expect((await anonymous.status(owned)).status).toBe(404);
    expect((await anonymous.complete(owned)).status).toBe(404);
    const tusOwnerless = await anonymous.tusUpload(Buffer.from('t'), {}, { 'Upload-Concat': 'partial' });
    expect((await alice.tus(tusOwnerless, 'HEAD')).status).toBe(404);
    expect((await alice.tusCreate({ 'Upload-Concat': `final;${tusOwnerless}` })).status).toBe(404);
  });
});
