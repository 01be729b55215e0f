import { StorageProvider } from '../../src/storage/storage-provider';
import { ResumableUploadService } from '../../src/uploads/resumable-upload.service';
import { startTusApp, TusTestApp } from '../tus/tus-app';

/**
 * The tus controller marks its uploads with a reserved metadata key (so only tus uploads are finished by a tus
 * HEAD). That key is the library's bookkeeping: it stays in the session and never reaches the stored blob's
 * metadata, the session view or the tus `Upload-Metadata` answer.
 */
describe('reserved metadata keys stay out of blobs and views', () => {
  let server: TusTestApp;
  beforeAll(async () => {
    server = await startTusApp('express');
  });
  afterAll(async () => server.close());

  it('a tus upload: the blob metadata has the client keys only', async () => {
    const created = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': '3',
        'Upload-Metadata':
          `filename ${Buffer.from('a.txt').toString('base64')},` + `kind ${Buffer.from('doc').toString('base64')}`,
        'Content-Type': 'application/offset+octet-stream',
      },
      body: 'abc',
    });
    expect(created.status).toBe(201);
    const id = created.headers.get('location')!.split('/').pop()!;
    const uploads = server.app.get(ResumableUploadService);
    const view = await uploads.getStatus(id);
    expect(view.status).toBe('Complete');
    expect(Object.keys(view.metadata).sort()).toEqual(['filename', 'kind']);
    const blob = await server.app.get(StorageProvider).stat(view.path);
    expect(Object.keys(blob!.metadata).sort()).toEqual(['filename', 'kind']);
    const head = await fetch(`${server.endpoint}/${id}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(head.headers.get('upload-metadata')).not.toMatch(/dmFsaWJsb2I|valiblob/i);
  });
});
