import { readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { OwnershipClient } from '../ownership/ownership-client';
import { startTusApp, TusTestApp } from './tus-app';

const HTTP = { tus: { path: 'files' }, rest: false, blobs: { path: 'blobs' } } as const;

/** Every stored blob under the provider root (staging excluded), as relative paths. */
async function blobsUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === '.valiblob') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(relative(root, full));
    }
  };
  await walk(root);
  return out.sort();
}

describe.each([true, false])('tus concat uses partials as completed (wholeFileChecksum %s)', (wholeFileChecksum) => {
  let t: TusTestApp;
  let client: OwnershipClient;

  beforeAll(async () => {
    t = await startTusApp('express', { maxUploadSize: 64, wholeFileChecksum }, HTTP);
    client = new OwnershipClient(t.origin);
  });
  afterAll(async () => t?.close());

  /** A completed partial holding `content`; returns its URL path and where its blob lies on disk. */
  async function partial(content: string): Promise<{ url: string; file: string }> {
    const url = await client.tusUpload(Buffer.from(content), { filename: 'p.bin' }, { 'Upload-Concat': 'partial' });
    return { url, file: join(t.root, 'tus', url.split('/').pop()!, 'p.bin') };
  }
  const final = (...urls: string[]) => client.tusCreate({ 'Upload-Concat': `final;${urls.join(' ')}` });

  it('a partial whose bytes changed (same size) → 409 PARTIAL_CHANGED; nothing is published', async () => {
    const a = await partial('aaaa');
    const b = await partial('bbbb');
    await writeFile(b.file, 'EVIL');
    const before = await blobsUnder(t.root);
    const res = await final(a.url, b.url);
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('PARTIAL_CHANGED');
    expect(await blobsUnder(t.root)).toEqual(before);
  });

  it('a partial whose size changed or whose blob is gone → 409 PARTIAL_CHANGED', async () => {
    const a = await partial('aaaa');
    const grown = await partial('bbbb');
    await writeFile(grown.file, 'bbbbb');
    expect((await final(a.url, grown.url)).json.code).toBe('PARTIAL_CHANGED');
    const shrunk = await partial('cccc');
    await truncate(shrunk.file, 2);
    expect((await final(shrunk.url, a.url)).json.code).toBe('PARTIAL_CHANGED');
    const gone = await partial('dddd');
    await rm(gone.file);
    const res = await final(a.url, gone.url);
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('PARTIAL_CHANGED');
  });

  it('duplicate partial ids in one final → 400; unchanged partials still concatenate', async () => {
    const a = await partial('aaaa');
    const b = await partial('bb');
    const dup = await final(a.url, b.url, a.url);
    expect(dup.status).toBe(400);
    expect(dup.json.code).toBe('INVALID_REQUEST');
    const ok = await final(a.url, b.url);
    expect(ok.status).toBe(201);
    const id = String(ok.headers.location).split('/').pop();
    expect((await client.tus(`/files/${id}`, 'GET')).body.toString()).toBe('aaaabb');
  });

  it('a total above maxUploadSize → 413 before anything is copied', async () => {
    const big = await partial('x'.repeat(40));
    const other = await partial('y'.repeat(40));
    const before = await blobsUnder(t.root);
    const res = await final(big.url, other.url);
    expect(res.status).toBe(413);
    expect(res.json.code).toBe('SIZE_EXCEEDED');
    expect(await blobsUnder(t.root)).toEqual(before);
  });
});
