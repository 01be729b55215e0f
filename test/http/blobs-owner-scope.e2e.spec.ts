import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EACH_PLATFORM, RestTestApp, startRestApp } from './rest-app';

/**
 * Under owner scope the blob route speaks paths relative to the caller's space, on Express and Fastify
 * alike: the owner reads her blob, nobody else finds it at any spelling, anonymous callers are refused.
 */
describe.each(EACH_PLATFORM)('blob route under owner scope on %s', (platform) => {
  let a: RestTestApp;
  const alice = { 'x-user': 'alice' };
  const bob = { 'x-user': 'bob' };
  const secret = Buffer.from('alice secret bytes');

  beforeAll(async () => {
    a = await startRestApp(platform, { ownerScope: true });
    const id = (await a.start({ totalSize: secret.length, path: 'a/x.png' }, alice)).json.uploadId as string;
    expect((await a.put(id, 0, secret, alice)).status).toBe(200);
    expect((await a.call(`/uploads/${id}/complete`, { method: 'POST', headers: alice })).status).toBe(200);
  });
  afterAll(async () => a?.close());

  it('serves the owner her blob at the path she knows; it is stored in her space', async () => {
    const read = await a.call('/blobs/a/x.png', { headers: alice });
    expect([read.status, read.body.equals(secret)]).toEqual([200, true]);
    const head = await a.call('/blobs/a/x.png', { method: 'HEAD', headers: alice });
    expect([head.status, head.headers['content-length']]).toEqual([200, String(secret.length)]);
    expect(existsSync(join(a.root, 'owners/alice/a/x.png'))).toBe(true);
    expect((await a.call('/blobs/%61/x.png', { headers: alice })).status).toBe(200);
  });

  it('another owner finds nothing at any spelling (GET and HEAD)', async () => {
    const spellings = [
      'a/x.png',
      'alice/a/x.png',
      'owners/alice/a/x.png',
      'owners%2Falice%2Fa%2Fx.png',
      '..%2F..%2Fowners/alice/a/x.png',
      '%2e%2e/%2e%2e/owners/alice/a/x.png',
    ];
    for (const target of spellings) {
      for (const method of ['GET', 'HEAD']) {
        const res = await a.call(`/blobs/${target}`, { method, headers: bob });
        expect([target, method, [400, 404].includes(res.status)]).toEqual([target, method, true]);
        expect(res.body.toString()).not.toContain('alice secret');
      }
    }
    const missing = await a.call('/blobs/a/x.png', { headers: bob });
    expect([missing.status, missing.json.code]).toEqual([404, 'BLOB_NOT_FOUND']);
  });

  it('refuses anonymous callers with 401, and never names the stored path in an error', async () => {
    const anonymous = await a.call('/blobs/a/x.png');
    expect([anonymous.status, anonymous.json.code]).toEqual([401, 'UNAUTHORIZED']);
    const long = await a.call(`/blobs/${'n'.repeat(300)}`, { headers: alice });
    expect([long.status, long.json.code]).toEqual([400, 'INVALID_PATH']);
    expect(long.body.toString()).not.toContain('owners/alice');
  });
});
