import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AzureBlobStorageProvider } from '../../src/azure';
import { readAll } from '../../src/testing';
import { beginRequest as request } from '../support/begin-request';
import { AzuriteHandle, startAzurite } from '../support/azurite';

const MiB = 1024 * 1024;

/**
 * A writer that lost its lease (paused past it) may still call `writeChunk` with the state it read before another
 * writer committed the same offset. Its blocks must never replace committed ones: only the block list of the
 * committed manifest (the state the engine persisted with its fenced `advance`) is committed on complete.
 */
describe('Azure fencing through the block list: a late writer with a stale state (Azurite)', () => {
  let azurite: AzuriteHandle;
  let provider: AzureBlobStorageProvider;

  beforeAll(async () => {
    azurite = await startAzurite();
    const connectionString = azurite.connectionString;
    provider = new AzureBlobStorageProvider({ connectionString, containerName: 'fencing', blockSize: MiB });
    await provider.container.createIfNotExists();
  }, 60_000);
  afterAll(() => azurite?.stop());

  const write = (state: Record<string, unknown>, offset: number, bytes: Buffer) =>
    provider.writeChunk(state, offset, Readable.from([bytes]), { expectedLength: bytes.length });

  it('a block-sized chunk: the blob is exactly the committed writer B bytes, never the late A bytes', async () => {
    const total = 2 * MiB + 500;
    const a = randomBytes(total);
    const b = randomBytes(total);
    const path = 'fence/block.bin';
    const s0 = await provider.beginUpload(request('fenceBlock', path, total));
    // Writer 1 read S0 and paused; writer 2 staged B's first two blocks from S0 and its S1 was committed.
    const s1 = (await write(s0, 0, b.subarray(0, 2 * MiB))).state;
    // Writer 1 resumes and stages A from the stale S0 (the engine would refuse its advance).
    await write(s0, 0, a.subarray(0, 2 * MiB)).catch(() => undefined);
    const s2 = (await write(s1, 2 * MiB, b.subarray(2 * MiB))).state;
    await write(s1, 2 * MiB, a.subarray(2 * MiB)).catch(() => undefined);
    await provider.completeUpload(s2, request('fenceBlock', path, total));
    const stored = await readAll((await provider.get(path)).stream);
    expect(stored.length).toBe(total);
    expect(stored.equals(b)).toBe(true);
  }, 60_000);

  it('a short chunk (one short block): the late writer cannot restage the committed block', async () => {
    const total = 3000;
    const a = randomBytes(total);
    const b = randomBytes(total);
    const path = 'fence/short.bin';
    const s0 = await provider.beginUpload(request('fenceShort', path, total));
    const s1 = (await write(s0, 0, b.subarray(0, 1000))).state;
    const s2 = (await write(s1, 1000, b.subarray(1000, 2000))).state;
    await write(s1, 1000, a.subarray(1000, 2000)).catch(() => undefined);
    await write(s0, 0, a.subarray(0, 1000)).catch(() => undefined);
    const s3 = (await write(s2, 2000, b.subarray(2000))).state;
    await provider.completeUpload(s3, request('fenceShort', path, total));
    expect((await readAll((await provider.get(path)).stream)).equals(b)).toBe(true);
  }, 60_000);

  it('a stale writer after complete cannot touch the published blob', async () => {
    const b = randomBytes(1500);
    const path = 'fence/after.bin';
    const s0 = await provider.beginUpload(request('fenceAfter', path, 1500));
    const s1 = (await write(s0, 0, b)).state;
    await provider.completeUpload(s1, request('fenceAfter', path, 1500));
    await write(s0, 0, randomBytes(1500)).catch(() => undefined);
    // A complete retried with the committed state (idempotent) must still publish B.
    await provider.completeUpload(s1, request('fenceAfter', path, 1500));
    expect((await readAll((await provider.get(path)).stream)).equals(b)).toBe(true);
  }, 60_000);
});
