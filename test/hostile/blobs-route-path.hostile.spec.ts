import { Readable } from 'node:stream';
import { StorageProvider } from '../../src/storage/storage-provider';
import { startTusApp, TusTestApp } from '../tus/tus-app';

/**
 * The blob route serves the path routing matched — whatever the case of the mount and the global prefix — and
 * never re-derives it by searching the URL for the mount name (which `/BLOBS/x/blobs/b.txt` would fool into
 * serving `b.txt`). Paths through a file or with an over-long segment are 404 / 400, never 500.
 */
describe('blob route path', () => {
  let t: TusTestApp;
  const read = async (path: string, method = 'GET') => {
    const res = await fetch(`${t.origin}${path}`, { method });
    return { status: res.status, text: method === 'HEAD' ? '' : await res.text() };
  };

  beforeAll(async () => {
    t = await startTusApp('express', {}, { tus: { path: 'files' }, rest: false, blobs: { path: 'blobs' } }, 'api');
    const storage = t.app.get(StorageProvider);
    await storage.put('b.txt', Readable.from([Buffer.from('ROOT')]));
    await storage.put('x/blobs/b.txt', Readable.from([Buffer.from('NESTED')]));
  });
  afterAll(async () => t.close());

  it('serves the routed path at every case of the mount and prefix', async () => {
    expect(await read('/api/blobs/b.txt')).toEqual({ status: 200, text: 'ROOT' });
    expect(await read('/API/BLOBS/b.txt')).toEqual({ status: 200, text: 'ROOT' });
    expect(await read('/api/blobs/x/blobs/b.txt')).toEqual({ status: 200, text: 'NESTED' });
    expect(await read('/Api/Blobs/x/blobs/b.txt')).toEqual({ status: 200, text: 'NESTED' });
  });

  it('refuses an encoded slash inside a segment (it would name another blob)', async () => {
    const res = await read('/api/blobs/x%2Fblobs%2Fb.txt');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).code).toBe('INVALID_PATH');
  });

  it('a path through a file is 404 and an over-long segment 400, on GET and HEAD', async () => {
    expect((await read('/api/blobs/b.txt/c')).status).toBe(404);
    expect((await read('/api/blobs/b.txt/c', 'HEAD')).status).toBe(404);
    expect((await read(`/api/blobs/${'a'.repeat(300)}`)).status).toBe(400);
    expect((await read(`/api/blobs/${'a'.repeat(300)}`, 'HEAD')).status).toBe(400);
  });
});
