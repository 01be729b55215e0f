import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { EACH_PLATFORM, md5b64, RestTestApp, startRestApp } from './rest-app';

/**
 * The REST three-step API over a real socket on Express and on Fastify alike: create, chunks (with a safe
 * retry), complete (idempotent), abort, and uploads bound to their owner by the authorize hook.
 */
describe.each(EACH_PLATFORM)('REST upload flow on %s', (platform) => {
  let a: RestTestApp;
  beforeAll(async () => {
    a = await startRestApp(platform);
  });
  afterAll(async () => a?.close());

  it('runs the three steps, retries a chunk safely, and the blob is readable', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const created = await a.start({
      totalSize: data.length,
      path: 'docs/report.bin',
      contentType: 'application/pdf',
      metadata: { title: 'Q3' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/uploads/${created.json.uploadId}`);
    const id = created.json.uploadId as string;
    expect(created.json).toMatchObject({ status: 'Pending', uploadedBytes: 0, totalSize: data.length });
    expect(created.json.providerState).toBeUndefined();

    const chunk = 1024 * 1024;
    for (let offset = 0; offset < data.length; offset += chunk) {
      const piece = data.subarray(offset, offset + chunk);
      const res = await a.put(id, offset, piece, { 'Content-MD5': md5b64(piece) });
      expect(res.status).toBe(200);
      expect(res.json.uploadedBytes).toBe(Math.min(offset + chunk, data.length));
      expect(res.headers['upload-offset']).toBe(String(res.json.uploadedBytes));
      if (offset === chunk) {
        // The client lost the response and retries the same chunk: 409 with the offset to continue from.
        const retry = await a.put(id, offset, piece);
        expect(retry.status).toBe(409);
        expect(retry.json).toMatchObject({ code: 'OFFSET_MISMATCH', expectedOffset: offset + chunk });
        expect(retry.headers['upload-offset']).toBe(String(offset + chunk));
      }
    }
    const status = await a.call(`/uploads/${id}`);
    expect(status.json).toMatchObject({ status: 'InProgress', uploadedBytes: data.length });
    expect(status.headers['cache-control']).toBe('no-store');
    const done = await a.call(`/uploads/${id}/complete`, { method: 'POST' });
    expect(done.status).toBe(200);
    expect(done.json.session.checksum).toBe(createHash('sha256').update(data).digest('hex'));
    const again = await a.call(`/uploads/${id}/complete`, { method: 'POST' });
    expect(again.status).toBe(200);
    expect(again.json.session).toEqual(done.json.session);
    const whole = await a.call('/blobs/docs/report.bin');
    expect(whole.status).toBe(200);
    expect(whole.body.equals(data)).toBe(true);
  });

  it('takes a chunk with no content type, and one sent chunked without a length', async () => {
    const id = (await a.start({ totalSize: 6 })).json.uploadId as string;
    const bare = await a.call(`/uploads/${id}/chunks/0`, { method: 'PUT', body: Buffer.from('abc') });
    expect(bare.status).toBe(200);
    const chunked = await a.call(`/uploads/${id}/chunks/3`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Readable.from([Buffer.from('d'), Buffer.from('ef')]),
    });
    expect([chunked.status, chunked.json.uploadedBytes]).toEqual([200, 6]);
  });

  it('binds uploads to their owner: another owner gets 404 on every route', async () => {
    const created = await a.start({ totalSize: 3 }, { 'x-user': 'alice' });
    const id = created.json.uploadId as string;
    const bob = { 'x-user': 'bob' };
    const answers = [
      await a.put(id, 0, Buffer.from('abc'), bob),
      await a.call(`/uploads/${id}`, { headers: bob }),
      await a.call(`/uploads/${id}`),
      await a.call(`/uploads/${id}/complete`, { method: 'POST', headers: bob }),
      await a.call(`/uploads/${id}`, { method: 'DELETE', headers: bob }),
    ];
    expect(answers.map((r) => [r.status, r.json?.code])).toEqual(Array(5).fill([404, 'UPLOAD_NOT_FOUND']));
    expect((await a.put(id, 0, Buffer.from('abc'), { 'x-user': 'alice' })).status).toBe(200);
  });

  it('aborts: the status stays readable, writes answer 410', async () => {
    const id = (await a.start({ totalSize: 100 })).json.uploadId as string;
    await a.put(id, 0, Buffer.alloc(10));
    const aborted = await a.call(`/uploads/${id}`, { method: 'DELETE' });
    expect(aborted.status).toBe(200);
    expect(aborted.json.status).toBe('Aborted');
    expect((await a.call(`/uploads/${id}`)).json.status).toBe('Aborted');
    const late = await a.put(id, 10, Buffer.alloc(10));
    expect([late.status, late.json.code]).toEqual([410, 'UPLOAD_GONE']);
    const twice = await a.call(`/uploads/${id}`, { method: 'DELETE' });
    expect([twice.status, twice.json.code]).toEqual([410, 'UPLOAD_GONE']);
  });
});
