import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalStorageProvider } from '../../src/storage/local/local-storage.provider';
import { ResumableUploadService } from '../../src/uploads/resumable-upload.service';
import { PLATFORMS, startTusApp, TusTestApp } from '../tus/tus-app';
import { OFFSET_STREAM, testBytes, TUS, waitFor } from '../tus/tus-http';

/** File descriptors of this process open on files under `root` (/proc/self/fd: the app runs in-process). */
function openUnder(root: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(root)) out.push(target);
    } catch {
      // closed between readdir and readlink
    }
  }
  return out;
}

/** GET `url`; with `abortAfterFirstByte` the client goes away as soon as the body starts. */
function get(url: string, abortAfterFirstByte = false): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      if (abortAfterFirstByte) {
        res.once('data', () => {
          req.destroy();
          resolve(res.statusCode ?? 0);
        });
      } else {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }
      res.on('error', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * Every download closes its stream on every path, so failing or abandoned GETs cannot exhaust the process's
 * descriptors. Blobs here carry a stored content type that cannot be a header (written by another tool, or
 * before create refused such types): both routes serve them as application/octet-stream, and no descriptor
 * opened for a download outlives it. On Express and Fastify alike.
 */
describe.each(PLATFORMS.map((p) => [p]))('downloads never leak file descriptors on %s', (platform) => {
  let t: TusTestApp;
  let root: string;
  let provider: LocalStorageProvider;
  const data = testBytes(4 * 1024 * 1024, 5);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-fds-'));
    provider = new LocalStorageProvider({ root, fsync: false });
    t = await startTusApp(
      platform,
      { providers: { local: provider } },
      { tus: { path: 'files' }, rest: { path: 'uploads' }, blobs: { path: 'blobs' } },
    );
  });
  afterAll(async () => {
    await t?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('100 GETs of a blob with an un-headerable stored content type: 200 octet-stream, no descriptor left', async () => {
    await provider.put('legacy/a.bin', Readable.from([data]), { contentType: 'text/日本' });
    const statuses = new Set<number>();
    for (let i = 0; i < 100; i++) statuses.add(await get(`${t.origin}/blobs/legacy/a.bin`));
    expect([...statuses]).toEqual([200]);
    const one = await fetch(`${t.origin}/blobs/legacy/a.bin`);
    expect(one.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await one.arrayBuffer()).equals(data)).toBe(true);
    await waitFor(async () => openUnder(root).length === 0, 3000).catch(() => undefined);
    expect(openUnder(root)).toEqual([]);
  });

  it('tus GET of such a blob is served as application/octet-stream, 100 times, no descriptor left', async () => {
    const length = String(data.length);
    const created = await fetch(t.endpoint, { method: 'POST', headers: { ...TUS, 'Upload-Length': length } });
    const url = new URL(created.headers.get('location')!, t.endpoint).toString();
    const headers = { ...TUS, 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM };
    const patched = await fetch(url, { method: 'PATCH', headers, body: data });
    expect(patched.status).toBe(204);
    const session = await t.app.get(ResumableUploadService).getSession(url.split('/').pop()!);
    // Another writer replaces the blob with a content type no header can carry.
    await provider.put(session.path, Readable.from([data]), { contentType: 'image/\u0100' });
    const statuses = new Set<number>();
    for (let i = 0; i < 100; i++) statuses.add(await get(url));
    expect([...statuses]).toEqual([200]);
    const one = await fetch(url);
    expect(one.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await one.arrayBuffer()).equals(data)).toBe(true);
    await waitFor(async () => openUnder(root).length === 0, 3000).catch(() => undefined);
    expect(openUnder(root)).toEqual([]);
  });

  it('100 downloads abandoned by the client after the first byte leave no descriptor open', async () => {
    await provider.put('big/b.bin', Readable.from([data]), { contentType: 'application/octet-stream' });
    for (let i = 0; i < 100; i++) expect(await get(`${t.origin}/blobs/big/b.bin`, true)).toBe(200);
    await waitFor(async () => openUnder(root).length === 0, 3000).catch(() => undefined);
    expect(openUnder(root)).toEqual([]);
  });
});
