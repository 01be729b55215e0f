import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AzureBlobStorageProvider } from '../../src/azure';
import { readAll } from '../../src/testing';
import { beginRequest as request } from '../support/begin-request';
import { AzuriteHandle, startAzurite } from '../support/azurite';

/** `abortUpload` frees staged blocks where that cannot touch anyone else's data (issue 16: the admin purge). */
describe('Azure abort frees staged blocks (Azurite)', () => {
  let azurite: AzuriteHandle;
  let provider: AzureBlobStorageProvider;

  beforeAll(async () => {
    azurite = await startAzurite();
    provider = new AzureBlobStorageProvider({ connectionString: azurite.connectionString, containerName: 'aborts' });
    await provider.container.createIfNotExists();
  }, 60_000);
  afterAll(() => azurite?.stop());

  async function staged(uploadId: string, path: string, bytes: Buffer) {
    const s0 = await provider.beginUpload({ uploadId, path, totalSize: bytes.length, contentType: null, metadata: {} });
    return (await provider.writeChunk(s0, 0, Readable.from([bytes]))).state;
  }
  const uncommitted = async (path: string) => {
    try {
      const list = await provider.container.getBlockBlobClient(path).getBlockList('uncommitted');
      return list.uncommittedBlocks?.length ?? 0;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return 0;
      throw error;
    }
  };

  it('a new path: the staged blocks are gone and no blob is left behind', async () => {
    const state = await staged('abNew', 'ab/new.bin', randomBytes(3000));
    expect(await uncommitted('ab/new.bin')).toBeGreaterThan(0);
    await provider.abortUpload(state);
    expect(await uncommitted('ab/new.bin')).toBe(0);
    expect(await provider.exists('ab/new.bin')).toBe(false);
    // Idempotent: a second abort (a retried cleanup) finds nothing and succeeds.
    await provider.abortUpload(state);
  });

  it('a path holding a committed blob: the blob stays byte for byte (its etag too)', async () => {
    const old = randomBytes(500);
    await provider.put('ab/old.bin', Readable.from([old]));
    const before = await provider.container.getBlockBlobClient('ab/old.bin').getProperties();
    const state = await staged('abOld', 'ab/old.bin', randomBytes(2000));
    await provider.abortUpload(state);
    const after = await provider.container.getBlockBlobClient('ab/old.bin').getProperties();
    expect(after.etag).toBe(before.etag);
    expect((await readAll((await provider.get('ab/old.bin')).stream)).equals(old)).toBe(true);
  });

  it('another unfinished upload staging to the same name keeps its blocks and still completes', async () => {
    const mine = await staged('abMine', 'ab/shared.bin', randomBytes(1000));
    const theirs = randomBytes(1500);
    const other = await staged('abTheirs', 'ab/shared.bin', theirs);
    await provider.abortUpload(mine);
    await provider.completeUpload(other, request('abTheirs', 'ab/shared.bin', 1500, false));
    expect((await readAll((await provider.get('ab/shared.bin')).stream)).equals(theirs)).toBe(true);
  });
});
