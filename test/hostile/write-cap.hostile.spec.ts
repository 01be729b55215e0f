import { InvalidValiBlobOptionsError } from '../../src/errors/vali-blob.errors';
import { resolveValiBlobOptions } from '../../src/vali-blob.options';
import { PLATFORMS, Platform, startTusApp, TusTestApp } from '../tus/tus-app';
import { OFFSET_STREAM, openPartialPatch, TUS, waitFor } from '../tus/tus-http';

/** A fetch answer's JSON body, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any shape; assertions read its fields
const jsonOf = (res: Response): Promise<any> => res.json();

const SIZE = 1024 * 1024;

describe('maxConcurrentWrites option', () => {
  it('defaults to 64 and must be a positive integer', () => {
    expect(resolveValiBlobOptions({}).maxConcurrentWrites).toBe(64);
    expect(resolveValiBlobOptions({ maxConcurrentWrites: 3 }).maxConcurrentWrites).toBe(3);
    for (const bad of [0, -1, 1.5, '64', null, Number.POSITIVE_INFINITY]) {
      expect(() => resolveValiBlobOptions({ maxConcurrentWrites: bad as number })).toThrow(InvalidValiBlobOptionsError);
    }
  });
});

/**
 * Slow real clients (raw sockets that send part of a PATCH body and then hold) fill the per-instance cap on
 * chunk writes; the next write on any route gets 503 TOO_MANY_WRITES with Retry-After instead of one more
 * lock and file descriptor, and a slot frees as soon as a slow client goes away.
 */
describe.each(PLATFORMS)('write cap on %s (maxConcurrentWrites: 2)', (platform: Platform) => {
  let t: TusTestApp;
  beforeAll(async () => {
    t = await startTusApp(platform, { maxConcurrentWrites: 2, idleTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function tusUpload(): Promise<string> {
    const res = await fetch(t.endpoint, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(SIZE) } });
    expect(res.status).toBe(201);
    return new URL(res.headers.get('location')!, t.endpoint).toString();
  }
  const patch = (url: string, body: Buffer) =>
    fetch(url, { method: 'PATCH', headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM }, body });

  it('answers 503 + Retry-After past the cap on tus PATCH, tus creation-with-upload and REST PUT', async () => {
    const slowA = await openPartialPatch(await tusUpload(), 0, SIZE, Buffer.alloc(64 * 1024, 1));
    const slowB = await openPartialPatch(await tusUpload(), 0, SIZE, Buffer.alloc(64 * 1024, 2));
    await Promise.all([slowA.sent, slowB.sent]);
    const third = await tusUpload();
    // The slow writes reach the engine asynchronously: wait until the cap is what refuses.
    let refused: Response | undefined;
    await waitFor(async () => {
      const res = await patch(third, Buffer.alloc(10));
      if (res.status === 204) throw new Error('a third write went through: no cap');
      refused = res;
      return res.status === 503;
    });
    expect(refused!.headers.get('retry-after')).toBe('1');
    expect(await jsonOf(refused!)).toMatchObject({ code: 'TOO_MANY_WRITES', statusCode: 503 });

    const created = await fetch(t.endpoint, {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': '3', 'Content-Type': OFFSET_STREAM },
      body: Buffer.from('abc'),
    });
    expect(created.status).toBe(503);
    expect(created.headers.get('retry-after')).toBe('1');
    expect(created.headers.get('location')).toBeNull(); // refused before any session was created

    const json = { 'Content-Type': 'application/json' };
    const createdRest = await fetch(`${t.origin}/uploads`, { method: 'POST', headers: json, body: '{"totalSize":3}' });
    const rest = await jsonOf(createdRest);
    const put = await fetch(`${t.origin}/uploads/${rest.uploadId}/chunks/0`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Buffer.from('abc'),
    });
    expect(put.status).toBe(503);
    expect(put.headers.get('retry-after')).toBe('1');
    expect((await jsonOf(put)).code).toBe('TOO_MANY_WRITES');

    // One slow client goes away: its bytes are kept, its slot frees, and the refused write now succeeds.
    slowA.socket.destroy();
    await waitFor(async () => (await patch(third, Buffer.alloc(10))).status === 204);
    slowB.socket.destroy();
  });
});
