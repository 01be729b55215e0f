import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite } from '../../test/support/azurite';
import { countAzuriteRequests } from './azurite-request-log';
import type { BenchRow } from './bench-result';
import {
  alternateRounds,
  costColumns,
  ROUNDS,
  formatCounts,
  measureUpload,
  STORAGE_REQUESTS,
  streamSha256,
  UploadCost,
} from './cloud-measure';
import { killOnExit, startCloudScript } from './cloud-process';
import { MiB, mibPerSecond } from './processes';
import { expectedSha256 } from './random-source';
import { tusUpload, UploadOutcome } from './uploaders';

/** ValiBlob's Azure block size in the benchmark: the client's PATCH size, = @tus/azure-store's append block. */
export const AZURE_BLOCK_SIZE = 8 * MiB;
/** ValiBlob's `maxConcurrentBlocks` in the benchmark (its default). */
export const AZURE_CONCURRENCY = 4;
const CONTAINER = 'valiblob-bench';

interface Requests {
  /** What Azurite served during the measured upload, by operation. */
  requests: string;
}

interface Contender {
  case: string;
  script: string;
  /** Extra server env. */
  env?: Record<string, string>;
  /** Name of the finished blob of upload `id`. */
  blobName(id: string): string;
}

const CONTENDERS: Contender[] = [
  {
    case: 'Azure: ValiBlob (AzureBlobStorageProvider, memory sessions)',
    script: 'azure-valiblob.server.ts',
    blobName: (id) => `tus/${id}/big.bin`,
  },
  { case: 'Azure: @tus/server + @tus/azure-store', script: 'azure-tus.server.ts', blobName: (id) => id },
  {
    case: 'Azure: ValiBlob without the whole-file sha256 (context)',
    script: 'azure-valiblob.server.ts',
    env: { WHOLE_FILE_CHECKSUM: 'false' },
    blobName: (id) => `tus/${id}/big.bin`,
  },
];

/** One contender on a fresh Azurite: warm-up, the measured upload, the stored blob's sha256 checked. */
async function runContender(contender: Contender, size: number): Promise<UploadCost<UploadOutcome> & Requests> {
  const azurite = await startAzurite();
  killOnExit(azurite.child);
  const log = countAzuriteRequests(azurite.child.stdout!);
  try {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(CONTAINER);
    await container.createIfNotExists();
    const server = await startCloudScript(contender.script, {
      AZURE_CONNECTION_STRING: azurite.connectionString,
      AZURE_CONTAINER: CONTAINER,
      AZURE_BLOCK_SIZE: String(AZURE_BLOCK_SIZE),
      AZURE_CONCURRENCY: String(AZURE_CONCURRENCY),
      ...contender.env,
    });
    try {
      await tusUpload(server.url, 16 * MiB, AZURE_BLOCK_SIZE, { name: 'warm.bin' });
      const expected = expectedSha256(size);
      await log.settled();
      log.reset();
      const cost = await measureUpload(server.pid, azurite.child.pid!, () =>
        tusUpload(server.url, size, AZURE_BLOCK_SIZE, { name: 'big.bin' }),
      );
      await log.settled();
      const requests = formatCounts(Object.fromEntries(log.counts));
      const blob = container.getBlobClient(contender.blobName(cost.result.id));
      const download = await blob.download();
      const actual = await streamSha256(download.readableStreamBody!);
      if (actual !== expected) throw new Error(`${contender.case}: the stored blob differs from the data sent`);
      return { ...cost, requests };
    } catch (error) {
      throw new Error(`${contender.case}: ${(error as Error).message}\n${server.output().slice(-2000)}`);
    } finally {
      await server.stop();
    }
  } finally {
    await azurite.stop();
  }
}

/** The Azure pair: ValiBlob's provider and @tus/azure-store, each in its own process on its own Azurite. */
export async function runAzurePair(size: number): Promise<{ rows: BenchRow[]; notes: string[] }> {
  const rounds = await alternateRounds(CONTENDERS.length, (i) => runContender(CONTENDERS[i], size));
  const fastest = rounds.map((costs) => costs.reduce((a, b) => (b.ms < a.ms ? b : a)));
  const rows = fastest.map((cost, i) => ({
    case: `${CONTENDERS[i].case}, ${size / MiB} MiB`,
    ...costColumns(cost, size),
    'MiB/s per round': rounds[i].map((c) => Math.round(mibPerSecond(size, c.ms))).join(' / '),
    'byte-exact': true,
    [STORAGE_REQUESTS]: cost.requests,
  }));
  const [valiblob, peer] = fastest;
  const ratio = valiblob.ms > 0 ? peer.ms / valiblob.ms : NaN;
  // The memory target holds for every round, not just the fastest.
  const growth = Math.max(...rounds[0].map((c) => c.peak - c.baseline)) / MiB;
  const bound = (AZURE_BLOCK_SIZE * AZURE_CONCURRENCY) / MiB + 32;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const notes = [
    `Azure: ${AZURE_BLOCK_SIZE / MiB} MiB tus PATCHes for both. ValiBlob: blockSize ${AZURE_BLOCK_SIZE / MiB} MiB, ` +
      `maxConcurrentBlocks ${AZURE_CONCURRENCY} (one Put Block per block, one Put Block List at the end). ` +
      '@tus/azure-store has no block size: it buffers each whole PATCH body and appends it as one Append Block, then ' +
      'rewrites the blob metadata (Set Blob Metadata) per PATCH (AzureStore.write / saveMetadata), so its block = ' +
      'the PATCH size.',
    'Each server in its own process against its own fresh Azurite (in-memory persistence, child process); ' +
      '"store CPU" is Azurite\'s; requests are counted from Azurite\'s access log. Stored blobs checked by ' +
      'sha256 through the Azure SDK download stream.',
    `Azure target (fastest of ${ROUNDS} rounds each, order alternating): ValiBlob ≥ 1.25× @tus/azure-store MiB/s → ` +
      `${ratio.toFixed(2)}× (${verdict(ratio >= 1.25)}); ValiBlob RSS growth (largest of its rounds) ≤ block size × ` +
      `concurrency + 32 MiB = ${bound} MiB → ${growth.toFixed(1)} MiB ` +
      `(${verdict(growth <= bound)}).`,
  ];
  return { rows, notes };
}
