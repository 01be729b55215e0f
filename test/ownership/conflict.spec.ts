import { DataSource } from 'typeorm';
import { CreateValiBlobTables1763600000000 } from '../../migrations';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { StorageRegistry } from '../../src/storage/storage.registry';
import { renameCandidate } from '../../src/uploads/conflict-policy';
import { makeTestSession } from '../../src/testing';
import { startTusApp, TusTestApp } from '../tus/tus-app';
import { scratchDir, valiBlobDataSource } from '../typeorm/typeorm-test-db';
import { OwnershipClient } from './ownership-client';

const HTTP = { tus: { path: 'files' }, rest: { path: 'uploads' }, blobs: { path: 'blobs' } } as const;
const bytes = (s: string) => Buffer.from(s);

describe('conflict policy at complete (REST + tus, memory provider)', () => {
  let t: TusTestApp;
  let client: OwnershipClient;

  beforeAll(async () => {
    t = await startTusApp('express', { providers: { mem: { type: 'memory' } } }, HTTP);
    client = new OwnershipClient(t.origin);
  });
  afterAll(async () => t?.close());

  it('fail (default): of two uploads to one new path the second complete is 409; the first blob stays', async () => {
    const first = await client.stage({ path: 'new/x.bin' }, bytes('FIRST'));
    const second = await client.stage({ path: 'new/x.bin' }, bytes('SECOND'));
    expect((await client.complete(first)).status).toBe(200);
    const refused = await client.complete(second);
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('BLOB_EXISTS');
    expect((await client.blob('new/x.bin')).body.toString()).toBe('FIRST');
    // The refused upload keeps its bytes and stays completable once the path is free.
    const status = await client.status(second);
    expect(status.json).toMatchObject({ status: 'InProgress', uploadedBytes: 6 });
    await t.app.get(StorageRegistry).get().delete('new/x.bin');
    expect((await client.complete(second)).status).toBe(200);
    expect((await client.blob('new/x.bin')).body.toString()).toBe('SECOND');
  });

  it('fail: two completes racing for one path: exactly one wins and the blob is its bytes', async () => {
    const a = await client.stage({ path: 'race/x.bin' }, bytes('AAAA'));
    const b = await client.stage({ path: 'race/x.bin' }, bytes('BBBB'));
    const [ra, rb] = await Promise.all([client.complete(a), client.complete(b)]);
    expect([ra.status, rb.status].sort()).toEqual([200, 409]);
    const winner = ra.status === 200 ? 'AAAA' : 'BBBB';
    expect((await client.blob('race/x.bin')).body.toString()).toBe(winner);
  });

  it('rename: name-1.ext, name-2.ext, … recorded in the session; overwrite replaces', async () => {
    const ids = [];
    for (const content of ['zero', 'one', 'two']) {
      ids.push(await client.stage({ path: 'r/photo.png', conflict: 'rename' }, bytes(content)));
    }
    const paths = [];
    for (const id of ids) paths.push((await client.complete(id)).json.session.path);
    expect(paths).toEqual(['r/photo.png', 'r/photo-1.png', 'r/photo-2.png']);
    expect((await client.status(ids[2])).json.path).toBe('r/photo-2.png');
    expect((await client.blob('r/photo-1.png')).body.toString()).toBe('one');
    expect((await client.upload({ path: 'r/photo.png', overwrite: true }, bytes('new'))).status).toBe(200);
    expect((await client.blob('r/photo.png')).body.toString()).toBe('new');
  });

  it('start keeps its early answer; bad conflict input is 400', async () => {
    expect((await client.create({ totalSize: 1, path: 'r/photo.png' })).json.code).toBe('BLOB_EXISTS');
    expect((await client.create({ totalSize: 1, path: 'r/photo.png', conflict: 'rename' })).status).toBe(201);
    const bad = [
      { conflict: 'keep' },
      { overwrite: 'yes' },
      { overwrite: true, conflict: 'fail' },
      { overwrite: false, conflict: 'overwrite' },
    ];
    for (const body of bad) {
      const res = await client.create({ totalSize: 1, path: 'bad/input', ...body });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('INVALID_REQUEST');
    }
  });

  it('tus: default fail answers the completing PATCH with 409; tus.conflict rename picks a free name', async () => {
    const naming = () => 'fixed/a.txt';
    const providers = { mem: { type: 'memory' as const } };
    const failing = await startTusApp('express', { providers, tus: { naming } }, HTTP);
    const renaming = await startTusApp('express', { providers, tus: { naming, conflict: 'rename' } }, HTTP);
    try {
      const f = new OwnershipClient(failing.origin);
      const url = (await f.tusCreate({ 'Upload-Length': '1' })).headers.location as string;
      await f.tusUpload(bytes('1'));
      const patchHeaders = { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' };
      const patch = await f.tus(url, 'PATCH', patchHeaders, bytes('2'));
      expect(patch.status).toBe(409);
      expect(patch.json.code).toBe('BLOB_EXISTS');
      expect((await f.blob('fixed/a.txt')).body.toString()).toBe('1');

      const r = new OwnershipClient(renaming.origin);
      await r.tusUpload(bytes('1'));
      await r.tusUpload(bytes('2'));
      expect((await r.blob('fixed/a-1.txt')).body.toString()).toBe('2');
    } finally {
      await failing.close();
      await renaming.close();
    }
  });

  it('rename candidates keep the extension and dotfiles', () => {
    expect(renameCandidate('a/photo.tar.gz', 1)).toBe('a/photo.tar-1.gz');
    expect(renameCandidate('README', 2)).toBe('README-2');
    expect(renameCandidate('d.x/.env', 3)).toBe('d.x/.env-3');
  });
});

describe('conflict policy in the TypeORM store (SQLite)', () => {
  const tmp = scratchDir('conflict');
  afterAll(() => tmp.cleanup());

  it('rows from before the migration read as overwrite (their rule); new rows keep their policy', async () => {
    const url = `sqlite:${tmp.dir}/c.sqlite`;
    const old = valiBlobDataSource(url, { migrations: [CreateValiBlobTables1763600000000], entities: [] });
    await old.initialize();
    await old.runMigrations();
    const legacy = makeTestSession();
    await old.query(
      `INSERT INTO valiblob_upload_sessions (upload_id, path, provider, total_size, uploaded_bytes, content_type,
        metadata, owner_id, status, created_at, updated_at, expires_at, version, provider_state, checksum,
        concat, fence)
       VALUES (?, ?, 'local', 1, 0, NULL, '{}', NULL, 'Pending', 1, 1, ?, 1, NULL, NULL, NULL, 0)`,
      [legacy.uploadId, legacy.path, Date.now() + 60_000],
    );
    await old.destroy();

    const current: DataSource = valiBlobDataSource(url);
    await current.initialize();
    try {
      await current.runMigrations();
      const store = new TypeOrmSessionStore(current);
      expect((await store.get(legacy.uploadId))?.conflict).toBe('overwrite');
      const fresh = makeTestSession({ conflict: 'fail' });
      await store.save(fresh);
      expect((await store.get(fresh.uploadId))?.conflict).toBe('fail');
      const renamed = await store.advance(fresh.uploadId, 0, { path: 'moved/there.bin' });
      expect(renamed?.path).toBe('moved/there.bin');
    } finally {
      await current.destroy();
    }
  });
});
