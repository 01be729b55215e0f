import { Test, TestingModule } from '@nestjs/testing';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ResumableUploadService, ValiBlobModule } from '../../src';
import { parseUploadChecksum } from '../../src/uploads/upload-checksum';
import type { WholeFileDigestCache } from '../../src/uploads/whole-file-digest.cache';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const body = (data: Buffer) => Readable.from([data]);

describe.each([1, 0])('whole-file sha256 with digestThreads: %i', (digestThreads) => {
  let root: string;
  let moduleRef: TestingModule;
  let uploads: ResumableUploadService;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-digest-'));
    moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({ providers: { local: { root } }, digestThreads, http: { tus: false, rest: false } }),
      ],
    }).compile();
    uploads = moduleRef.get(ResumableUploadService);
  });

  afterEach(async () => {
    await moduleRef.close();
    await rm(root, { recursive: true, force: true });
  });

  /** The engine's digest cache (internal): lets a test lose the digest threads mid-upload. */
  const digestsOf = (service: ResumableUploadService) =>
    (service as unknown as { digests: WholeFileDigestCache }).digests;

  it('records the sha256 of exactly the committed bytes across refused and retried chunks', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 17);
    const { uploadId } = await uploads.start({ totalSize: data.length });
    const first = data.subarray(0, 2 * 1024 * 1024);
    await uploads.uploadChunk({ uploadId, offset: 0, body: body(first) });
    // A chunk whose checksum does not match is discarded: its bytes must not reach the whole-file hash.
    const wrong = parseUploadChecksum(`sha256 ${createHash('sha256').update('x').digest('base64')}`, ['sha256']);
    const refused = uploads.uploadChunk({
      uploadId,
      offset: first.length,
      body: body(data.subarray(first.length)),
      checksum: wrong,
    });
    await expect(refused).rejects.toMatchObject({ status: 460 });
    // A stale retry of the first chunk: 409, nothing hashed twice.
    await expect(uploads.uploadChunk({ uploadId, offset: 0, body: body(first) })).rejects.toMatchObject({
      status: 409,
    });
    await uploads.uploadChunk({ uploadId, offset: first.length, body: body(data.subarray(first.length)) });
    const done = await uploads.complete(uploadId);
    expect(done.session.checksum).toBe(sha256(data));
  });

  it('still records the right sha256 when the digest state is lost mid-upload (read back from storage)', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const { uploadId } = await uploads.start({ totalSize: data.length });
    await uploads.uploadChunk({ uploadId, offset: 0, body: body(data.subarray(0, 1024 * 1024)) });
    // Threads stopped (as if a worker died): the states they held answer null from now on.
    await digestsOf(uploads).close();
    await uploads.uploadChunk({ uploadId, offset: 1024 * 1024, body: body(data.subarray(1024 * 1024)) });
    const done = await uploads.complete(uploadId);
    expect(done.session.checksum).toBe(sha256(data));
  });
});
