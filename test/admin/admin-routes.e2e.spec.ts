import { Test } from '@nestjs/testing';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ForbiddenError,
  InvalidValiBlobOptionsError,
  LocalStorageProvider,
  ResumableSessionStore,
  StorageRegistry,
  resolveValiBlobOptions,
  UploadStatus,
  ValiBlobHttpOptions,
  ValiBlobModule,
} from '../../src';
import { EACH_PLATFORM, RestTestApp, startRestApp } from '../http/rest-app';

/** `x-admin: yes` is an operator, `x-admin: owner` an authenticated non-operator (403), anything else 401. */
function adminAuthorize(request: unknown): boolean {
  const value = (request as { headers: Record<string, string | undefined> }).headers['x-admin'];
  if (value === 'owner') throw new ForbiddenError('Not an operator');
  return value === 'yes';
}

const HTTP: ValiBlobHttpOptions = {
  rest: { path: 'uploads' },
  tus: false,
  admin: { path: 'admin/uploads', authorize: adminAuthorize },
};
const ADMIN = { 'x-admin': 'yes' };
const JSON_TYPE = { 'Content-Type': 'application/json' };

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe.each(EACH_PLATFORM)('Admin routes on %s (real socket)', (platform) => {
  let t: RestTestApp;
  beforeAll(async () => {
    t = await startRestApp(platform, {}, HTTP);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Start an upload over REST as `user`, with `bytes` written. */
  async function upload(user: string, path: string, bytes = 0): Promise<string> {
    const started = await t.start({ totalSize: 50, path }, { 'x-user': user });
    expect(started.status).toBe(201);
    if (bytes > 0) {
      const put = await t.put(started.json.uploadId, 0, Buffer.alloc(bytes, 1), { 'x-user': user });
      expect(put.status).toBe(200);
    }
    return started.json.uploadId as string;
  }
  const list = (query: string, headers: Record<string, string> = ADMIN) =>
    t.call(`/admin/uploads${query}`, { headers });
  const purge = (body: unknown, headers: Record<string, string> = ADMIN) =>
    t.call('/admin/uploads/purge', {
      method: 'POST',
      headers: { ...JSON_TYPE, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('refuses callers the hook refuses: 401 UNAUTHORIZED, or 403 FORBIDDEN when the hook says so', async () => {
    const id = await upload('carol', `carol-${platform}/x.bin`);
    for (const headers of [{}, { 'x-admin': 'no' }, { 'x-user': 'carol' }] as Record<string, string>[]) {
      const refused = await list('', headers);
      expect(refused.status).toBe(401);
      expect(refused.json).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
      const purgeRefused = await purge({ filter: { ownerId: 'carol' }, mode: 'delete' }, headers);
      expect(purgeRefused.status).toBe(401);
    }
    const owner = await list('', { 'x-admin': 'owner' });
    expect(owner.status).toBe(403);
    expect(owner.json).toMatchObject({ code: 'FORBIDDEN' });
    expect((await purge({ filter: { ownerId: 'carol' }, mode: 'delete' }, { 'x-admin': 'owner' })).status).toBe(403);
    // Nothing was purged by the refused calls.
    expect((await list(`?ownerId=carol`)).json.items.map((i: { uploadId: string }) => i.uploadId)).toEqual([id]);
  });

  it("lists one owner's uploads page by page with every filter from the query string", async () => {
    const prefix = `list-${platform}/`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await upload('dave', `${prefix}${i}.bin`, i === 0 ? 0 : 3));
    await upload('erin', `${prefix}erin.bin`);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?ownerId=dave&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await list(query);
      expect(page.status).toBe(200);
      expect(page.headers['cache-control']).toBe('no-store');
      seen.push(...page.json.items.map((item: { uploadId: string }) => item.uploadId));
      cursor = page.json.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort());
    const pending = await list(`?pathPrefix=${encodeURIComponent(prefix)}&status=Pending`);
    expect(pending.json.items.map((i: { uploadId: string }) => i.uploadId).sort()).toEqual(
      [ids[0], (await list(`?ownerId=erin`)).json.items[0].uploadId].sort(),
    );
    const both = await list(`?ownerId=dave&status=Pending,InProgress&olderThanMs=0`);
    expect(both.json.items).toHaveLength(5);
    const second = both.json.items.find((item: { uploadId: string }) => item.uploadId === ids[1]);
    expect(second).toMatchObject({ ownerId: 'dave', status: UploadStatus.InProgress, uploadedBytes: 3 });
    expect(second).not.toHaveProperty('providerState');
    expect((await list(`?ownerId=dave&olderThanMs=3600000`)).json.items).toEqual([]);
  });

  it('answers bad query values and bodies with 400 INVALID_REQUEST', async () => {
    for (const query of [
      '?limit=abc',
      '?limit=0',
      '?status=Nope',
      '?olderThanMs=-5',
      '?ownerz=x',
      '?limit=1&limit=2',
    ]) {
      const bad = await list(query);
      expect([query, bad.status, bad.json?.code]).toEqual([query, 400, 'INVALID_REQUEST']);
    }
    for (const body of [
      '{"filter": ',
      '[]',
      { filter: { ownerId: 'x' }, mode: 'nuke' },
      { filter: { ownerID: 'x' }, mode: 'delete' },
      { filter: { ownerId: 'x' }, mode: 'delete', dryrun: true },
      { filter: { ownerId: 'x' }, mode: 'abort', deleteBlobs: true },
      { filter: 'everything', mode: 'delete' },
    ]) {
      const bad = await purge(body);
      expect([body, bad.status, bad.json?.code]).toEqual([body, 400, 'INVALID_REQUEST']);
    }
  });

  it('refuses an empty purge filter without all: true (400, reason EMPTY_FILTER)', async () => {
    await upload('frank', `empty-${platform}/x.bin`);
    for (const body of [{ mode: 'delete' }, { filter: {}, mode: 'abort' }]) {
      const refused = await purge(body);
      expect(refused.status).toBe(400);
      expect(refused.json).toMatchObject({ code: 'INVALID_REQUEST', reason: 'EMPTY_FILTER' });
    }
    expect((await list('?ownerId=frank')).json.items).toHaveLength(1);
  });

  it("purges one owner's leftovers: dry run first, then delete; staging freed; others untouched", async () => {
    const prefix = `purge-${platform}/`;
    const a = await upload('gina', `${prefix}a.bin`, 10);
    const b = await upload('gina', `${prefix}b.bin`, 0);
    const other = await upload('hank', `${prefix}c.bin`, 10);
    const store = t.t.app.get(ResumableSessionStore);
    const local = t.t.app.get(StorageRegistry).get('local') as LocalStorageProvider;
    const stagingA = await local.stagingPathOf((await store.get(a))!.providerState!);
    expect(await exists(stagingA)).toBe(true);
    const dry = await purge({ filter: { ownerId: 'gina' }, mode: 'delete', dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.json).toEqual({
      matched: 2,
      aborted: 2,
      deleted: 2,
      blobsDeleted: 0,
      locked: 0,
      skipped: 0,
      dryRun: true,
      failed: [],
    });
    expect((await list('?ownerId=gina')).json.items).toHaveLength(2);
    const done = await purge({ filter: { ownerId: 'gina', pathPrefix: prefix }, mode: 'delete' });
    expect(done.json).toMatchObject({ matched: 2, aborted: 2, deleted: 2, failed: [], dryRun: false });
    expect((await list('?ownerId=gina')).json.items).toEqual([]);
    for (const id of [a, b])
      expect((await t.call(`/uploads/${id}`, { headers: { 'x-user': 'gina' } })).status).toBe(404);
    expect((await t.call(`/uploads/${other}`, { headers: { 'x-user': 'hank' } })).json.uploadedBytes).toBe(10);
    expect(await exists(stagingA)).toBe(false);
    expect(await exists(join(t.root, `${prefix}a.bin`))).toBe(false);
  });
});

describe.each(EACH_PLATFORM)('Admin routes at a path of their own on %s', (platform) => {
  let t: RestTestApp;
  beforeAll(async () => {
    t = await startRestApp(
      platform,
      {},
      { rest: false, tus: false, admin: { path: 'ops', authorize: adminAuthorize } },
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers refused bodies in the library shape, alike on both platforms', async () => {
    const cases: Array<[Record<string, string>, string, number, string]> = [
      [JSON_TYPE, '{"filter": ', 400, 'INVALID_REQUEST'],
      [JSON_TYPE, '', 400, 'INVALID_REQUEST'],
      [{}, '', 400, 'INVALID_REQUEST'],
      [{ 'Content-Type': 'text/plain' }, 'x', 400, 'INVALID_REQUEST'],
    ];
    for (const [headers, body, status, code] of cases) {
      const answer = await t.call('/ops/purge', { method: 'POST', headers: { ...headers, ...ADMIN }, body });
      expect([headers, body, answer.status, answer.json?.code]).toEqual([headers, body, status, code]);
    }
    expect((await t.call('/ops?limit=1', { headers: ADMIN })).json).toEqual({ items: [], nextCursor: null });
    expect((await t.call('/ops')).status).toBe(401);
  });
});

describe('http.admin option', () => {
  it('is off by default: no admin route', async () => {
    const t = await startRestApp('express');
    try {
      expect((await t.call('/admin/uploads', { headers: ADMIN })).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  it('refuses admin without an authorize function, or with a bad path, at bootstrap', async () => {
    const problems = (admin: unknown) => {
      try {
        resolveValiBlobOptions({}, { admin } as ValiBlobHttpOptions);
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidValiBlobOptionsError);
        return (error as InvalidValiBlobOptionsError).problems;
      }
    };
    expect(problems({ path: 'admin' })).toEqual([expect.stringContaining('http.admin.authorize must be a function')]);
    expect(problems({ path: 'admin', authorize: 'yes' })).toHaveLength(1);
    expect(problems({ path: '../x', authorize: () => true })).toEqual([expect.stringContaining('http.admin.path')]);
    expect(problems({ path: '/', authorize: () => true })).toHaveLength(1);
    expect(problems({ authorize: () => true })).toEqual([]);
    expect(problems(false)).toEqual([]);
    const compiling = Test.createTestingModule({
      imports: [ValiBlobModule.forRoot({ http: { admin: { path: 'admin' } as never } })],
    }).compile();
    await expect(compiling).rejects.toBeInstanceOf(InvalidValiBlobOptionsError);
  });
});
