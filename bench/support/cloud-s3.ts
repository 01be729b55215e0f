import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { startS3rver } from '../../test/support/s3rver';
import type { BenchRow } from './bench-result';
import {
  alternateRounds,
  costColumns,
  formatCounts,
  measureUpload,
  STORAGE_REQUESTS,
  streamSha256,
} from './cloud-measure';
import { startCloudScript } from './cloud-process';
import { withScratch } from './processes';
import { MiB } from './processes';
import { expectedSha256 } from './random-source';
import { s3BenchConfig } from './s3-bench.config';
import { TUS_S3_DERIVATION, tusS3StoreRequests } from './tus-s3-store.requests';
import { tusUpload } from './uploaders';

/** Part size of both S3 contenders and the client's PATCH size. */
export const S3_PART_SIZE = 8 * MiB;

/** Where the S3 contenders store: a full S3 implementation named by env, or a fresh s3rver per contender. */
interface S3Target {
  label: string;
  /** Env for the server process. */
  env: Record<string, string>;
  client: S3Client;
  bucket: string;
  stop(): Promise<void>;
}

async function openTarget(): Promise<S3Target> {
  if (process.env.S3_ENDPOINT) {
    const bucket = process.env.S3_BUCKET ?? 'valiblob-bench';
    const client = new S3Client(s3BenchConfig());
    await client.send(new HeadBucketCommand({ Bucket: bucket })).catch(async () => {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    });
    // The servers inherit S3_ENDPOINT / S3_REGION / S3_ACCESS_KEY / S3_SECRET_KEY from this process.
    return { label: 'S3_ENDPOINT', env: { S3_BUCKET: bucket }, client, bucket, stop: async () => client.destroy() };
  }
  const s3 = await startS3rver('valiblob-bench');
  const env = { S3_ENDPOINT: s3.endpoint, S3_BUCKET: s3.bucket, S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: 'true' };
  const credentials = { S3_ACCESS_KEY: s3.credentials.accessKeyId, S3_SECRET_KEY: s3.credentials.secretAccessKey };
  return { label: 's3rver', env: { ...env, ...credentials }, client: s3.client, bucket: s3.bucket, stop: s3.stop };
}

interface Contender {
  case: string;
  script: string;
  /** Keys of upload `id` (named `name`) to check (the first) and delete afterwards. */
  keys(id: string, name: string): string[];
}

const VALIBLOB: Contender = {
  case: 'S3: ValiBlob (S3StorageProvider, memory sessions)',
  script: 's3-cloud-valiblob.server.ts',
  keys: (id, name) => [`tus/${id}/${name}`],
};
const TUS: Contender = {
  case: 'S3: @tus/server + @tus/s3-store',
  script: 's3-tus.server.ts',
  keys: (id) => [id, `${id}.info`],
};

/** One contender on its own target: warm-up, the measured upload with its S3 requests counted, sha256 check. */
async function runContender(contender: Contender, size: number): Promise<BenchRow> {
  return withScratch('cloud-s3', async (dir) => {
    const target = await openTarget();
    try {
      const env = { ...target.env, S3_PART_SIZE: String(S3_PART_SIZE), S3_TEMP_DIR: dir, TMPDIR: dir };
      const server = await startCloudScript(contender.script, env);
      const written: string[] = [];
      try {
        const warm = await tusUpload(server.url, 16 * MiB, S3_PART_SIZE, { name: 'warm.bin' });
        written.push(...contender.keys(warm.id, 'warm.bin'));
        await server.ask('reset');
        const expected = expectedSha256(size);
        const cost = await measureUpload(server.pid, null, () =>
          tusUpload(server.url, size, S3_PART_SIZE, { name: 'big.bin' }),
        );
        const counts = await server.ask<Record<string, number>>('counts');
        const keys = contender.keys(cost.result.id, 'big.bin');
        written.push(...keys);
        const object = await target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: keys[0] }));
        if ((await streamSha256(object.Body as Readable)) !== expected) {
          throw new Error(`${contender.case}: the stored object differs from the data sent`);
        }
        return {
          case: `${contender.case} on ${target.label}, ${size / MiB} MiB`,
          ...costColumns(cost, size),
          'byte-exact': true,
          [STORAGE_REQUESTS]: formatCounts(counts),
        };
      } catch (error) {
        throw new Error(`${contender.case}: ${(error as Error).message}\n${server.output().slice(-2000)}`);
      } finally {
        await server.stop();
        for (const key of written) {
          await target.client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key })).catch(() => null);
        }
      }
    } finally {
      await target.stop();
    }
  });
}

/**
 * S3: ValiBlob's provider, and @tus/server + @tus/s3-store when `S3_ENDPOINT` names a full S3 implementation
 * (the store needs ListParts, which s3rver lacks); otherwise ValiBlob on s3rver alone. Next to the counted
 * requests: what @tus/s3-store's design needs, derived from its source.
 */
export async function runS3(size: number): Promise<{ rows: BenchRow[]; notes: string[] }> {
  const full = Boolean(process.env.S3_ENDPOINT);
  const contenders = full ? [VALIBLOB, TUS] : [VALIBLOB];
  const rounds = await alternateRounds(contenders.length, (i) => runContender(contenders[i], size));
  // The fastest round of each, with every round's MiB/s beside it.
  const [valiblob, peer] = rounds.map((rows): BenchRow => ({
    ...rows.reduce((a, b) => (Number(b['MiB/s']) > Number(a['MiB/s']) ? b : a)),
    'MiB/s per round': rows.map((r) => Math.round(Number(r['MiB/s']))).join(' / '),
  }));
  const rows: BenchRow[] = [valiblob];
  const derived = `derived from its source: ${formatCounts(tusS3StoreRequests(size, S3_PART_SIZE, S3_PART_SIZE))}`;
  if (peer) {
    rows.push({ ...peer, [STORAGE_REQUESTS]: `measured: ${peer[STORAGE_REQUESTS]}; ${derived}` });
  } else {
    rows.push({
      case: `${TUS.case}: skipped (s3rver has no ListParts, which the store calls on every PATCH; set S3_ENDPOINT)`,
      [STORAGE_REQUESTS]: derived,
    });
  }
  const notes = [
    `S3: ${S3_PART_SIZE / MiB} MiB tus PATCHes and ${S3_PART_SIZE / MiB} MiB parts for both (ValiBlob partSize, ` +
      '@tus/s3-store partSize), each server in its own process; part files in a scratch directory. Requests are ' +
      "counted in the server process by an AWS SDK middleware below the SDK's retries (every attempt counts), " +
      'for the measured upload alone (not the warm-up); "(404)" = answered 404, "retry" = an SDK retry.',
    full
      ? 'S3 target: the endpoint in S3_ENDPOINT (S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET).'
      : 'S3 target: s3rver in the benchmark process (a test double on local disk: it bounds the MiB/s; no store ' +
        'CPU column, since it shares the process with the client). It lacks UploadPartCopy, so ValiBlob streams ' +
        'each committed segment back through the server (GetObject segment + UploadPart) where real S3 copies it ' +
        'server-side. @tus/s3-store skipped: it needs ListParts.',
    TUS_S3_DERIVATION,
  ];
  return { rows, notes };
}
