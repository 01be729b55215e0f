import { Readable } from 'node:stream';
import { StorageProvider } from '../../src/storage/storage-provider';
import { Platform, startTusApp, TusTestApp } from '../tus/tus-app';
import { rawHttp } from './raw-http';

/** Express routes case-insensitively by default; Fastify does when told (`caseSensitive: false`). */
const CASE_INSENSITIVE: Array<[Platform, object]> = [
  ['express', {}],
  ['fastify', { routerOptions: { caseSensitive: false } }],
];

/** A ValiBlob app at `/api` with the blob route at `/api/blobs`, holding `b.txt` and `x/blobs/b.txt`. */
async function startBlobApp(platform: Platform, fastifyOptions: object): Promise<TusTestApp> {
  const t = await startTusApp(
    platform,
    {},
    { tus: { path: 'files' }, rest: false, blobs: { path: 'blobs' } },
    'api',
    fastifyOptions,
  );
  const storage = t.app.get(StorageProvider);
  await storage.put('b.txt', Readable.from([Buffer.from('ROOT')]));
  await storage.put('x/blobs/b.txt', Readable.from([Buffer.from('NESTED')]));
  return t;
}

/**
 * The blob route serves the path routing matched — whatever the case of the mount and the global prefix — and
 * never re-derives it by searching the URL for the mount name (which `/BLOBS/x/blobs/b.txt` would fool into
 * serving `b.txt`). Paths through a file or with an over-long segment are 404 / 400, never 500. On Express and
 * Fastify alike (Fastify hands the path over decoded as a whole; it is read back from the raw URL).
 */
describe.each(CASE_INSENSITIVE)('blob route path on %s', (platform, fastifyOptions) => {
  let t: TusTestApp;
  const read = async (path: string, method = 'GET') => {
    const res = await fetch(`${t.origin}${path}`, { method });
    return { status: res.status, text: method === 'HEAD' ? '' : await res.text() };
  };

  beforeAll(async () => {
    t = await startBlobApp(platform, fastifyOptions);
  });
  afterAll(async () => t?.close());

  it('serves the routed path at every case of the mount and prefix', async () => {
    expect(await read('/api/blobs/b.txt')).toEqual({ status: 200, text: 'ROOT' });
    expect(await read('/API/BLOBS/b.txt')).toEqual({ status: 200, text: 'ROOT' });
    expect(await read('/api/blobs/x/blobs/b.txt')).toEqual({ status: 200, text: 'NESTED' });
    expect(await read('/Api/Blobs/x/blobs/b.txt')).toEqual({ status: 200, text: 'NESTED' });
    expect(await read('/api/blobs/x/BLOBS/b.txt')).toMatchObject({ status: 404 });
  });

  it('refuses an encoded slash inside a segment (it would name another blob)', async () => {
    for (const path of ['/api/blobs/x%2Fblobs%2Fb.txt', '/api/blobs/x/blobs%2fb.txt', '/API/BLOBS/x%2Fblobs/b.txt']) {
      const res = await read(path);
      expect([path, res.status, JSON.parse(res.text).code]).toEqual([path, 400, 'INVALID_PATH']);
    }
  });

  it('reads the path of an absolute-form target (raw socket) the same way', async () => {
    const port = Number(new URL(t.origin).port);
    const get = (target: string) =>
      rawHttp(port, `GET http://evil.example${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}`);
    expect(await get('/api/blobs/x/blobs/b.txt')).toMatchObject({ status: 200, body: 'NESTED' });
    const encoded = await get('/api/blobs/x%2Fblobs%2Fb.txt');
    expect([encoded.status, JSON.parse(encoded.body).code]).toEqual([400, 'INVALID_PATH']);
  });

  it('a path through a file is 404 and an over-long segment 400, on GET and HEAD', async () => {
    expect((await read('/api/blobs/b.txt/c')).status).toBe(404);
    expect((await read('/api/blobs/b.txt/c', 'HEAD')).status).toBe(404);
    expect((await read(`/api/blobs/${'a'.repeat(300)}`)).status).toBe(400);
    expect((await read(`/api/blobs/${'a'.repeat(300)}`, 'HEAD')).status).toBe(400);
  });
});

/**
 * Fastify router options that rewrite the path before matching (`ignoreDuplicateSlashes`,
 * `ignoreTrailingSlash`): the blob path is still read back exactly, and an encoded slash still refused.
 */
describe('blob route path on fastify with path-normalising router options', () => {
  let t: TusTestApp;
  beforeAll(async () => {
    t = await startBlobApp('fastify', { routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true } });
  });
  afterAll(async () => t?.close());

  it('serves what the router matched and refuses encoded slashes', async () => {
    const text = async (path: string) => {
      const res = await fetch(`${t.origin}${path}`);
      return [path, res.status, await res.text()];
    };
    expect(await text('/api//blobs/b.txt')).toEqual(['/api//blobs/b.txt', 200, 'ROOT']);
    expect(await text('/api/blobs/x//blobs/b.txt/')).toEqual(['/api/blobs/x//blobs/b.txt/', 200, 'NESTED']);
    const encoded = await fetch(`${t.origin}/api//blobs/x%2Fblobs%2Fb.txt`);
    expect([encoded.status, ((await encoded.json()) as { code: string }).code]).toEqual([400, 'INVALID_PATH']);
  });
});
