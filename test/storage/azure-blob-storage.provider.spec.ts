import { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AzureBlobStorageProvider } from '../../src/azure';
import { readAll, runStorageProviderContract } from '../../src/testing';
import { AzuriteHandle, startAzurite } from '../support/azurite';

const MiB = 1024 * 1024;

async function container(azurite: AzuriteHandle, name: string): Promise<ContainerClient> {
  const client = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(name);
  await client.createIfNotExists();
  return client;
}

// The shared contract against Azurite started from npm (chunk sizes 1 B … 17 MiB, 2,500-object listing).
runStorageProviderContract('azure (Azurite)', async () => {
  const azurite = await startAzurite();
  return {
    provider: new AzureBlobStorageProvider({
      containerClient: await container(azurite, 'contract'),
      blockSize: 4 * MiB,
    }),
    dispose: () => azurite.stop(),
  };
});

describe('AzureBlobStorageProvider specifics (Azurite)', () => {
  let azurite: AzuriteHandle;
  let provider: AzureBlobStorageProvider;

  beforeAll(async () => {
    azurite = await startAzurite();
    provider = new AzureBlobStorageProvider({
      connectionString: azurite.connectionString,
      containerName: 'specifics',
      blockSize: 1 * MiB,
    });
    await provider.container.createIfNotExists();
  }, 60_000);
  afterAll(() => azurite?.stop());

  it('replaying chunks with an old state (lost session update) stores each byte once, in order', async () => {
    const total = 3 * MiB + 500;
    const data = randomBytes(total);
    const path = 'retry/a.bin';
    const s0 = await provider.beginUpload({
      uploadId: 'retryA',
      path,
      totalSize: total,
      contentType: null,
      metadata: {},
    });
    const chunk = (state: typeof s0, from: number, to: number) =>
      provider.writeChunk(state, from, Readable.from([data.subarray(from, to)]), { expectedLength: to - from });
    await chunk(s0, 0, 2 * MiB + 10);
    const r1 = await chunk(s0, 0, 2 * MiB + 10);
    await chunk(r1.state, 2 * MiB + 10, total);
    const r2 = await chunk(r1.state, 2 * MiB + 10, total);
    const blocks = (r2.state as { blocks: [number, string][] }).blocks;
    expect(blocks.map(([start]) => start)).toEqual([0, MiB, 2 * MiB, 2 * MiB + 10, 3 * MiB + 10]);
    // Every staging got its own key: the replays' blocks are simply not referenced.
    expect(new Set(blocks.map(([, key]) => key)).size).toBe(5);
    await provider.completeUpload(r2.state, {
      uploadId: 'retryA',
      path,
      totalSize: total,
      contentType: null,
      metadata: {},
    });
    expect((await readAll((await provider.get(path)).stream)).equals(data)).toBe(true);
  }, 60_000);

  const apart = 'keeps two uploads to the same path apart (per-upload block ids): the later commit fails, never mixes';
  it(apart, async () => {
    const path = 'same/path.bin';
    const a = randomBytes(1000);
    const b = randomBytes(1000);
    let sa = await provider.beginUpload({ uploadId: 'upA', path, totalSize: 1000, contentType: null, metadata: {} });
    let sb = await provider.beginUpload({ uploadId: 'upB', path, totalSize: 1000, contentType: null, metadata: {} });
    sa = (await provider.writeChunk(sa, 0, Readable.from([a]))).state;
    sb = (await provider.writeChunk(sb, 0, Readable.from([b]))).state;
    await provider.completeUpload(sa, { uploadId: 'upA', path, totalSize: 1000, contentType: null, metadata: {} });
    expect((await readAll((await provider.get(path)).stream)).equals(a)).toBe(true);
    // Committing A discarded B's uncommitted blocks: B fails loudly (503) instead of publishing A's bytes as B.
    await expect(
      provider.completeUpload(sb, { uploadId: 'upB', path, totalSize: 1000, contentType: null, metadata: {} }),
    ).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect((await readAll((await provider.get(path)).stream)).equals(a)).toBe(true);
  });

  it('round-trips non-ASCII metadata values exactly and completes idempotently', async () => {
    const metadata = { filename: 'Grüße – 日本.txt', literal: '100%25 sure' };
    let state = await provider.beginUpload({
      uploadId: 'metaM',
      path: 'meta/m.bin',
      totalSize: 3,
      contentType: 'text/plain',
      metadata,
    });
    state = (await provider.writeChunk(state, 0, Readable.from([Buffer.from('abc')]))).state;
    const req = { uploadId: 'metaM', path: 'meta/m.bin', totalSize: 3, contentType: 'text/plain', metadata };
    const first = await provider.completeUpload(state, req);
    const second = await provider.completeUpload(state, req);
    expect(second.size).toBe(3);
    expect(first.metadata).toEqual(metadata);
    await provider.put('meta/p.bin', Readable.from([Buffer.from('x')]), { metadata });
    expect((await provider.stat('meta/p.bin'))?.metadata).toEqual(metadata);
  });

  it('presigns GET and PUT SAS URLs that work with plain HTTP', async () => {
    const putUrl = await provider.presign('sas/p.txt', {
      method: 'PUT',
      expiresInSeconds: 60,
      contentType: 'text/plain',
    });
    const res = await fetch(putUrl, {
      method: 'PUT',
      body: 'hello',
      headers: { 'content-type': 'text/plain', 'x-ms-blob-type': 'BlockBlob' },
    });
    expect(res.status).toBe(201);
    const getUrl = await provider.presign('sas/p.txt', { method: 'GET', expiresInSeconds: 60 });
    expect(await (await fetch(getUrl)).text()).toBe('hello');
  });

  it('health probe fails with STORAGE_UNAVAILABLE for a missing container or a dead endpoint', async () => {
    const missing = new AzureBlobStorageProvider({ connectionString: azurite.connectionString, containerName: 'nope' });
    await expect(missing.ping()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', status: 503 });
    const dead = new AzureBlobStorageProvider({
      connectionString: azurite.connectionString.replace(`:${azurite.port}/`, ':9/'),
      containerName: 'x',
      pipelineOptions: { retryOptions: { maxTries: 1 } },
    });
    await expect(dead.ping()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(dead.stat('a/b')).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });
});
