import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AzureBlobStorageProvider } from '../../src/azure';
import { readAll } from '../../src/testing';
import { beginRequest as request } from '../support/begin-request';
import { AzuriteHandle, startAzurite } from '../support/azurite';

/** `CompleteUploadRequest.overwrite: false` is one conditional commit (`If-None-Match: *`), checked by Azurite. */
describe('Azure complete with overwrite: false (Azurite)', () => {
  let azurite: AzuriteHandle;
  let provider: AzureBlobStorageProvider;

  beforeAll(async () => {
    azurite = await startAzurite();
    provider = new AzureBlobStorageProvider({ connectionString: azurite.connectionString, containerName: 'overwrite' });
    await provider.container.createIfNotExists();
  }, 60_000);
  afterAll(() => azurite?.stop());

  async function staged(uploadId: string, path: string, bytes: Buffer) {
    const s0 = await provider.beginUpload({ uploadId, path, totalSize: bytes.length, contentType: null, metadata: {} });
    return (await provider.writeChunk(s0, 0, Readable.from([bytes]))).state;
  }
  const content = async (path: string) => readAll((await provider.get(path)).stream);

  it('of two uploads to one new path, the second complete gets BLOB_EXISTS (409), the first blob stays', async () => {
    const a = randomBytes(2000);
    const b = randomBytes(2000);
    const sa = await staged('owA', 'ow/new.bin', a);
    const sb = await staged('owB', 'ow/new.bin', b);
    await provider.completeUpload(sa, request('owA', 'ow/new.bin', 2000, false));
    await expect(provider.completeUpload(sb, request('owB', 'ow/new.bin', 2000, false))).rejects.toMatchObject({
      code: 'BLOB_EXISTS',
      status: 409,
    });
    expect((await content('ow/new.bin')).equals(a)).toBe(true);
    // The first complete, retried after it succeeded (its answer lost), still answers with its own blob.
    expect((await provider.completeUpload(sa, request('owA', 'ow/new.bin', 2000, false))).size).toBe(2000);
  });

  it('refuses a blob that existed before the upload and keeps the staged blocks for a later decision', async () => {
    const old = randomBytes(100);
    const mine = randomBytes(3000);
    await provider.put('ow/old.bin', Readable.from([old]));
    const state = await staged('owOld', 'ow/old.bin', mine);
    await expect(provider.completeUpload(state, request('owOld', 'ow/old.bin', 3000, false))).rejects.toMatchObject({
      code: 'BLOB_EXISTS',
    });
    expect((await content('ow/old.bin')).equals(old)).toBe(true);
    // Nothing was discarded: the caller may still publish (here: with overwrite allowed).
    await provider.completeUpload(state, request('owOld', 'ow/old.bin', 3000, true));
    expect((await content('ow/old.bin')).equals(mine)).toBe(true);
  });

  it('overwrite absent replaces, as before', async () => {
    await provider.put('ow/replace.bin', Readable.from([Buffer.from('old')]));
    const state = await staged('owRep', 'ow/replace.bin', Buffer.from('new!'));
    await provider.completeUpload(state, request('owRep', 'ow/replace.bin', 4));
    expect((await content('ow/replace.bin')).toString()).toBe('new!');
  });

  it('a complete at another path than begun is NOT_SUPPORTED (blocks are staged on the begun blob)', async () => {
    const state = await staged('owRen', 'ow/name.bin', Buffer.from('x'));
    await expect(provider.completeUpload(state, request('owRen', 'ow/name-1.bin', 1, false))).rejects.toMatchObject({
      code: 'NOT_SUPPORTED',
    });
    expect(await provider.exists('ow/name-1.bin')).toBe(false);
  });
});
