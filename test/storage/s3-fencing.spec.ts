import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3StorageProvider } from '../../src/s3';
import { readAll } from '../../src/testing';
import { beginRequest as request } from '../support/begin-request';
import { startS3rver, S3rverHandle } from '../support/s3rver';

const MiB = 1024 * 1024;
const PART = 5 * MiB;

/**
 * A writer that lost its lease (paused past it) may still call `writeChunk` with the state it read before another
 * writer committed the same offset. Its bytes must never replace committed ones: only the committed manifest
 * (the state the engine persisted with its fenced `advance`) decides what `completeUpload` publishes.
 */
describe('S3 fencing through the manifest: a late writer with a stale state (s3rver)', () => {
  let s3: S3rverHandle;
  let provider: S3StorageProvider;

  beforeAll(async () => {
    s3 = await startS3rver();
    provider = new S3StorageProvider({ bucket: s3.bucket, client: s3.client, partSize: PART });
  });
  afterAll(() => s3?.stop());

  const write = (state: Record<string, unknown>, offset: number, bytes: Buffer, isFinal = false) =>
    provider.writeChunk(state, offset, Readable.from([bytes]), { expectedLength: bytes.length, isFinal });

  it('a part-sized chunk: the blob is exactly the committed writer B bytes, never the late A bytes', async () => {
    const total = PART + 1000;
    const a = randomBytes(total);
    const b = randomBytes(total);
    const path = 'fence/part.bin';
    const s0 = await provider.beginUpload(request('fencePart', path, total));
    // Writer 1 read S0 and paused; writer 2 wrote B's first part from S0 and its S1 was committed.
    const s1 = (await write(s0, 0, b.subarray(0, PART))).state;
    // Writer 1 resumes and writes A's first part from the stale S0 (the engine would refuse its advance).
    await write(s0, 0, a.subarray(0, PART)).catch(() => undefined);
    // The upload goes on from the committed S1; writer 1 is late once more, now past S1.
    const s2 = (await write(s1, PART, b.subarray(PART), true)).state;
    await write(s1, PART, a.subarray(PART), true).catch(() => undefined);
    await provider.completeUpload(s2, request('fencePart', path, total));
    const stored = await readAll((await provider.get(path)).stream);
    expect(stored.length).toBe(total);
    expect(stored.equals(b)).toBe(true);
  }, 60_000);

  it('a short tail: the stale writer neither replaces the committed tail nor the merged part', async () => {
    const total = 300_000;
    const a = randomBytes(total);
    const b = randomBytes(total);
    const path = 'fence/tail.bin';
    const s0 = await provider.beginUpload(request('fenceTail', path, total));
    const s1 = (await write(s0, 0, b.subarray(0, 100_000))).state;
    // Both writers start from S1 (committed tail of 100,000 B bytes); writer 2's S2 is committed.
    const s2 = (await write(s1, 100_000, b.subarray(100_000, 200_000))).state;
    await write(s1, 100_000, a.subarray(100_000, 200_000)).catch(() => undefined);
    // Also a stale writer from S0 (no tail yet).
    await write(s0, 0, a.subarray(0, 100_000)).catch(() => undefined);
    const s3state = (await write(s2, 200_000, b.subarray(200_000), true)).state;
    await provider.completeUpload(s3state, request('fenceTail', path, total));
    const stored = await readAll((await provider.get(path)).stream);
    expect(stored.equals(b)).toBe(true);
  }, 60_000);

  it('a stale writer after complete cannot touch the published blob', async () => {
    const total = PART + 10;
    const b = randomBytes(total);
    const path = 'fence/after.bin';
    const s0 = await provider.beginUpload(request('fenceAfter', path, total));
    const s1 = (await write(s0, 0, b.subarray(0, PART))).state;
    const s2 = (await write(s1, PART, b.subarray(PART), true)).state;
    await provider.completeUpload(s2, request('fenceAfter', path, total));
    await write(s0, 0, randomBytes(PART)).catch(() => undefined);
    await write(s1, PART, randomBytes(10), true).catch(() => undefined);
    expect((await readAll((await provider.get(path)).stream)).equals(b)).toBe(true);
  }, 60_000);
});
