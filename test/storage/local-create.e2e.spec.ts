import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTusApp, TusTestApp } from '../tus/tus-app';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Names the local disk cannot hold are refused at create with a 4xx (never a 503 at a later PATCH or complete). */
describe('local provider over HTTP: path conflicts at create, byte-sanitised tus file names', () => {
  let t: TusTestApp;

  beforeAll(async () => {
    t = await startTusApp('express');
  });

  afterAll(async () => {
    await t?.close();
  });

  const create = (body: Record<string, unknown>) =>
    fetch(`${t.origin}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers 409 PATH_CONFLICT at create for a path below a blob or naming a folder', async () => {
    await writeFile(join(t.root, 'a-file.bin'), 'x');
    await mkdir(join(t.root, 'a-folder'), { recursive: true });
    await writeFile(join(t.root, 'a-folder/inner.bin'), 'y');
    for (const path of ['a-file.bin/child.bin', 'a-folder']) {
      const res = await create({ totalSize: 3, path, overwrite: true });
      const answer = { path, status: res.status, body: await res.json() };
      expect(answer).toMatchObject({ status: 409, body: { code: 'PATH_CONFLICT' } });
    }
  });

  it('answers 400 INVALID_PATH for a 256-byte segment and a lone surrogate', async () => {
    for (const path of [`d/${'界'.repeat(85)}x`, 'd/\ud800.bin']) {
      const res = await create({ totalSize: 3, path });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'INVALID_PATH' });
    }
  });

  it('uploads a tus file whose filename is 100 CJK characters (300 bytes)', async () => {
    const filename = `${'文'.repeat(100)}.txt`;
    const created = await fetch(`${t.endpoint}`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '5', 'Upload-Metadata': `filename ${b64(filename)}` },
    });
    expect(created.status).toBe(201);
    const location = new URL(created.headers.get('location')!, t.origin).toString();
    const patched = await fetch(location, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body: 'hello',
    });
    expect(patched.status).toBe(204);
    const id = location.split('/').pop()!;
    const stored = `tus/${id}/${'文'.repeat(65)}.txt`;
    expect(await readFile(join(t.root, stored), 'utf8')).toBe('hello');
  });
});
