import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3StorageProvider } from '../../src/s3';
import { readAll } from '../../src/testing';
import { beginRequest as request } from '../support/begin-request';
import { createS3rverClient, startS3rver, S3rverHandle } from '../support/s3rver';

const MiB = 1024 * 1024;

async function staged(provider: S3StorageProvider, uploadId: string, path: string, bytes: Buffer) {
  const s0 = await provider.beginUpload({ uploadId, path, totalSize: bytes.length, contentType: null, metadata: {} });
  if (bytes.length === 0) return s0;
  return (await provider.writeChunk(s0, 0, Readable.from([bytes]), { isFinal: true })).state;
}

/**
 * `CompleteUploadRequest.overwrite: false` is one conditional write: `If-None-Match: *` on
 * CompleteMultipartUpload (or PutObject for an empty upload). s3rver 3.7 ignores that header, so the 412 path
 * runs against s3rver with the conditional-write shim (test/support/s3rver.ts) that answers as AWS S3 does.
 */
describe('S3 complete with overwrite: false (s3rver)', () => {
  let plain: S3rverHandle;
  let conditional: S3rverHandle;
  let provider: S3StorageProvider;

  beforeAll(async () => {
    plain = await startS3rver();
    conditional = await startS3rver('valiblob-test', { conditionalWrites: true });
    provider = new S3StorageProvider({ bucket: conditional.bucket, client: conditional.client, partSize: 5 * MiB });
  });
  afterAll(async () => {
    await plain?.stop();
    await conditional?.stop();
  });
  const content = async (path: string) => readAll((await provider.get(path)).stream);

  it('sends If-None-Match: * to publish only when overwrite is false (plain s3rver ignores it)', async () => {
    const client = createS3rverClient(plain.endpoint, plain.credentials);
    const seen: Array<[string, string | undefined]> = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const headers = (args.request as { headers: Record<string, string> }).headers;
        seen.push([context.commandName!, headers['if-none-match']]);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordIfNoneMatch' },
    );
    const onPlain = new S3StorageProvider({ bucket: plain.bucket, client, partSize: 5 * MiB });
    const upload = async (id: string, path: string, bytes: Buffer, overwrite?: boolean) =>
      onPlain.completeUpload(await staged(onPlain, id, path, bytes), request(id, path, bytes.length, overwrite));
    await upload('hdrA', 'hdr/a.bin', randomBytes(100), false);
    await upload('hdrE', 'hdr/e.bin', Buffer.alloc(0), false);
    await upload('hdrB', 'hdr/b.bin', randomBytes(100));
    const completes = seen.filter(([name]) => name === 'CompleteMultipartUploadCommand');
    expect(completes.map(([, h]) => h)).toEqual(['*', undefined]);
    expect(seen.filter(([name, h]) => name === 'PutObjectCommand' && h === '*')).toHaveLength(1);
    // What s3rver 3.7 does with the header: nothing. A second no-replace complete on the same key goes through.
    await expect(upload('hdrC', 'hdr/a.bin', randomBytes(100), false)).resolves.toMatchObject({ size: 100 });
    client.destroy();
  });

  it('of two uploads to one new path, the second complete gets BLOB_EXISTS (409), the first blob stays', async () => {
    const a = randomBytes(6 * MiB);
    const b = randomBytes(6 * MiB + 5);
    const sa = await staged(provider, 'owA', 'ow/new.bin', a);
    const sb = await staged(provider, 'owB', 'ow/new.bin', b);
    await provider.completeUpload(sa, request('owA', 'ow/new.bin', a.length, false));
    await expect(provider.completeUpload(sb, request('owB', 'ow/new.bin', b.length, false))).rejects.toMatchObject({
      code: 'BLOB_EXISTS',
      status: 409,
    });
    expect((await content('ow/new.bin')).equals(a)).toBe(true);
    // The first complete, retried after it succeeded (its answer lost), answers with its own blob.
    expect((await provider.completeUpload(sa, request('owA', 'ow/new.bin', a.length, false))).size).toBe(a.length);
    // The refused upload kept its staged bytes: conflict policy `rename` completes it at the next free name.
    await provider.completeUpload(sb, request('owB', 'ow/new-1.bin', b.length, false));
    expect((await content('ow/new-1.bin')).equals(b)).toBe(true);
    expect((await content('ow/new.bin')).equals(a)).toBe(true);
  }, 60_000);

  it('refuses an existing blob for an empty upload too, and replaces when overwrite is absent', async () => {
    await provider.put('ow/old.bin', Readable.from([Buffer.from('old')]));
    const empty = await staged(provider, 'owEmpty', 'ow/old.bin', Buffer.alloc(0));
    await expect(provider.completeUpload(empty, request('owEmpty', 'ow/old.bin', 0, false))).rejects.toMatchObject({
      code: 'BLOB_EXISTS',
    });
    const tail = await staged(provider, 'owTail', 'ow/old.bin', Buffer.from('small'));
    await expect(provider.completeUpload(tail, request('owTail', 'ow/old.bin', 5, false))).rejects.toMatchObject({
      code: 'BLOB_EXISTS',
    });
    expect((await content('ow/old.bin')).toString()).toBe('old');
    await provider.completeUpload(tail, request('owTail', 'ow/old.bin', 5));
    expect((await content('ow/old.bin')).toString()).toBe('small');
  });
});
