import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EACH_PLATFORM, RestTestApp, startRestApp } from './rest-app';

/**
 * No path escapes the storage root, in any spelling, through the REST API or the blob route, on Express and
 * Fastify alike; and a sweep of malformed requests gets 4xx, never 5xx.
 */
describe.each(EACH_PLATFORM)('paths and malformed requests on %s', (platform) => {
  let a: RestTestApp;
  beforeAll(async () => {
    a = await startRestApp(platform);
    // A symlink inside the root that points outside must not be followed for reads or writes.
    await mkdir(join(a.root, 'links'), { recursive: true });
    await symlink(a.outside, join(a.root, 'links', 'out'));
    await symlink(join(a.outside, 'secret.txt'), join(a.root, 'links', 'secret.txt'));
  });
  afterAll(async () => a?.close());

  it('never lets an upload path escape the storage root', async () => {
    const attacks = [
      '../x',
      'a/../../x',
      '/etc/passwd',
      'C:/windows/x',
      'a\\..\\..\\x',
      'a\u0000b',
      'a/\u0007b',
      'a//b',
      './a',
      '.valiblob/staging/x',
      'links/out/evil.txt',
    ];
    for (const path of attacks) {
      const res = await a.start({ totalSize: 1, path });
      if (res.status === 201) {
        // Accepted paths must still be refused when the symlinked parent resolves outside the root.
        const chunk = await a.put(res.json.uploadId, 0, Buffer.from('z'));
        const done = await a.call(`/uploads/${res.json.uploadId}/complete`, { method: 'POST' });
        expect({ path, chunk: chunk.status, done: done.status, code: done.json?.code }).toEqual({
          path,
          chunk: 200,
          done: 400,
          code: 'INVALID_PATH',
        });
      } else {
        expect({ path, status: res.status, code: res.json?.code }).toEqual({ path, status: 400, code: 'INVALID_PATH' });
      }
    }
    expect(await readdir(a.outside)).toEqual(['secret.txt']);
  });

  it('never serves a file outside the root through the blob route', async () => {
    const answers = [];
    for (const url of [
      '/blobs/..%2f..%2fetc%2fpasswd',
      '/blobs/%2e%2e/%2e%2e/etc/passwd',
      '/blobs/a%00b',
      '/blobs/a%5c..%5cx',
      '/blobs/links/secret.txt',
      '/blobs/links/out/secret.txt',
      '/blobs/.valiblob/meta/x.json',
    ]) {
      const res = await a.call(url);
      answers.push({
        url,
        status: res.status,
        code: res.json?.code,
        leaked: res.body.toString().includes('secret') && !res.json,
      });
    }
    expect(answers).toEqual(answers.map(({ url }) => ({ url, status: 400, code: 'INVALID_PATH', leaked: false })));
    // Percent-encoding that is not UTF-8 is refused by the router itself on both platforms (400, its own body).
    expect((await a.call('/blobs/%E0%A4%A')).status).toBe(400);
  });

  it('answers a sweep of malformed requests with 4xx, never 5xx', async () => {
    const id = (await a.start({ totalSize: 100 })).json.uploadId as string;
    const requests = [
      a.start({ totalSize: 1e300 }),
      a.put(id, 0, Buffer.from('x'), { 'Content-MD5': 'short' }),
      a.put(`${'a'.repeat(300)}`, 0, Buffer.from('x')),
      a.put('%2e%2e', 0, Buffer.from('x')),
      a.put('a%2Fb', 0, Buffer.from('x')),
      a.call(`/uploads/${id}/chunks/0`, {
        method: 'PUT',
        headers: { 'Content-Length': '5' },
        body: Buffer.from('12345'),
      }),
      a.call(`/uploads/${id}/chunks/0`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream; charset=x' },
        body: Buffer.from('1'),
      }),
      a.call(`/uploads/${id}/chunks`, { method: 'PUT', body: Buffer.from('1') }),
      a.call(`/uploads/${id}/nothing`, { method: 'POST' }),
      a.call('/uploads', { method: 'PATCH' }),
      a.call('/blobs/'),
      a.call('/blobs'),
      a.call('/blobs/missing.bin'),
      a.call('/blobs/missing.bin', { headers: { Range: 'bytes=abc' } }),
      a.call('/blobs/missing.bin', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' }),
      a.call(`/blobs/${'%F0%9F%98%80'.repeat(300)}`),
    ];
    for (const res of await Promise.all(requests)) {
      expect(res.status).toBeLessThan(500);
      expect(res.status).toBeGreaterThanOrEqual(200);
    }
  });
});
