import { DetailedError, Upload } from 'tus-js-client';
import { UploadQuotaService, UploadRejectedError } from '../../src';
import { httpRequest, TestResponse } from '../support/http-client';
import { xUserAuthorize } from '../http/rest-app';
import { PLATFORMS, Platform, startTusApp, TusTestApp } from '../tus/tus-app';
import { TUS } from '../tus/tus-http';
import { filesUnder, pdfBytes, pngBytes } from './policy-fixtures';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A tus-js-client upload; resolves with the URL, rejects with the client's DetailedError. */
function tusUpload(endpoint: string, data: Buffer, metadata: Record<string, string>, user: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(data, {
      endpoint,
      metadata,
      chunkSize: 64 * 1024,
      retryDelays: [0, 100],
      headers: { 'x-user': user },
      onError: reject,
      onSuccess: () => resolve(upload.url!),
    });
    upload.start();
  });
}

describe.each(PLATFORMS)('upload policy over tus and REST (%s)', (platform: Platform) => {
  let t: TusTestApp;
  const call = (path: string, init?: Parameters<typeof httpRequest>[1]) => httpRequest(`${t.origin}${path}`, init);

  beforeAll(async () => {
    t = await startTusApp(
      platform,
      {
        authorize: xUserAuthorize,
        policy: {
          validation: { blockedExtensions: ['exe'], allowedContentTypes: ['image/*', 'application/pdf'] },
          contentType: { sniff: true, enforce: true },
          quota: { maxBytes: 200_000 },
          hooks: {
            beforePublish: ({ session }) => {
              if (session.metadata.approve === 'no') {
                throw new UploadRejectedError('Not approved by review', { status: 403, code: 'NOT_APPROVED' });
              }
            },
          },
        },
      },
      { tus: { path: 'files' }, rest: { path: 'uploads' } },
    );
  });
  afterAll(() => t?.close());

  function tusPost(headers: Record<string, string | number>, body?: Buffer): Promise<TestResponse> {
    const extra: Record<string, string> = body ? { 'Content-Type': 'application/offset+octet-stream' } : {};
    return call('/files', { method: 'POST', headers: { ...TUS, ...extra, ...headers }, body });
  }

  it('tus (raw): a blocked extension is 400 EXTENSION_NOT_ALLOWED with a JSON body, no upload created', async () => {
    const res = await tusPost({
      'Upload-Length': 10,
      'Upload-Metadata': `filename ${b64('setup.exe')}`,
      'x-user': 'u1',
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'EXTENSION_NOT_ALLOWED' });
    expect(res.headers.location).toBeUndefined();
  });

  it('tus (raw): creation-with-upload of a PDF declared image/png is 415 TYPE_MISMATCH; HEAD too', async () => {
    const pdf = pdfBytes(8192);
    const meta = `filename ${b64('cat.png')},filetype ${b64('image/png')}`;
    const res = await tusPost({ 'Upload-Length': pdf.length, 'Upload-Metadata': meta, 'x-user': 'u2' }, pdf);
    expect(res.status).toBe(415);
    expect(res.json).toMatchObject({ code: 'TYPE_MISMATCH' });
    const location = res.headers.location as string;
    expect(location).toBeDefined();
    const head = await httpRequest(new URL(location, t.origin).toString(), {
      method: 'HEAD',
      headers: { ...TUS, 'x-user': 'u2' },
    });
    expect(head.status).toBe(415);
    const files = await filesUnder(t.root);
    expect(files.filter((f) => !f.startsWith('.valiblob/'))).toEqual([]);
    expect(files.filter((f) => f.includes('staging'))).toEqual([]);
  });

  it('tus-js-client: a beforePublish rejection of the final PATCH reaches onError (status, code)', async () => {
    const png = pngBytes(150_000);
    const error = (await tusUpload(
      t.endpoint,
      png,
      { filename: 'a.png', filetype: 'image/png', approve: 'no' },
      'u3',
    ).catch((e) => e)) as DetailedError;
    expect(error.originalResponse?.getStatus()).toBe(403);
    expect(JSON.parse(error.originalResponse!.getBody())).toMatchObject({ code: 'NOT_APPROVED' });
    const url = await tusUpload(t.endpoint, png, { filename: 'b.png', filetype: 'image/png' }, 'u3');
    expect(url).toContain('/files/');
    // Only the approved upload counts against u3's quota.
    expect(await t.app.get(UploadQuotaService).usage('u3')).toMatchObject({ usedBytes: 150_000, reservedBytes: 0 });
  });

  it('tus-js-client: a file over the owner quota is refused 413 QUOTA_EXCEEDED before any byte is stored', async () => {
    const error = (await tusUpload(t.endpoint, pngBytes(250_000), { filename: 'big.png' }, 'u4').catch(
      (e) => e,
    )) as DetailedError;
    expect(error.originalResponse?.getStatus()).toBe(413);
    expect(JSON.parse(error.originalResponse!.getBody())).toMatchObject({ code: 'QUOTA_EXCEEDED' });
  });

  it('REST: type, sniffing and beforePublish rejections have the library error shape', async () => {
    const json = { 'Content-Type': 'application/json', 'x-user': 'u5' };
    // Under enforce a declared type outside the list can only end refused: at create, before a byte is sent.
    const declared = await call('/uploads', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ totalSize: 5, path: 'a.txt', contentType: 'text/plain' }),
    });
    expect(declared.status).toBe(415);
    expect(declared.json).toMatchObject({ code: 'TYPE_NOT_ALLOWED' });
    // Without a declared type the bytes decide: these are text, so the first PUT refuses them.
    const text = await call('/uploads', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ totalSize: 5, path: 'a.bin' }),
    });
    expect(text.status).toBe(201);
    const put = await call(`/uploads/${text.json.uploadId}/chunks/0`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream', 'x-user': 'u5' },
      body: Buffer.from('hello'),
    });
    expect(put.status).toBe(415);
    expect(put.json).toMatchObject({ code: 'TYPE_NOT_ALLOWED' });
    const status = await call(`/uploads/${text.json.uploadId}`, { headers: { 'x-user': 'u5' } });
    expect(status.json).toMatchObject({ status: 'Rejected', rejection: { code: 'TYPE_NOT_ALLOWED', status: 415 } });

    const pdf = pdfBytes(5000);
    const created = await call('/uploads', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        totalSize: pdf.length,
        path: 'doc.pdf',
        contentType: 'application/pdf',
        metadata: { approve: 'no' },
      }),
    });
    await call(`/uploads/${created.json.uploadId}/chunks/0`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream', 'x-user': 'u5' },
      body: pdf,
    });
    const complete = await call(`/uploads/${created.json.uploadId}/complete`, {
      method: 'POST',
      headers: { 'x-user': 'u5' },
    });
    expect(complete.status).toBe(403);
    expect(complete.json).toMatchObject({ code: 'NOT_APPROVED', message: 'Not approved by review' });
  });
});
