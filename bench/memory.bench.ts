import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startS3rver } from '../test/support/s3rver';
import { Benchmark, BenchResult, BenchRow } from './support/bench-result';
import {
  BenchServer,
  GiB,
  mib,
  MiB,
  mibPerSecond,
  processMemory,
  QUICK,
  startScript,
  startValiBlob,
  withScratch,
} from './support/processes';
import { expectedSha256, fileSha256 } from './support/random-source';
import { tusUpload, UploadOutcome } from './support/uploaders';

/** Sample a process's RSS while `work` runs; returns the peak seen and the baseline before it started. */
async function measureRss<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; baseline: number; peak: number }> {
  const baseline = processMemory(pid).rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, processMemory(pid).rss);
    } catch {
      // the process ended; the caller sees the failure through `work`
    }
  }, 50);
  try {
    const result = await work();
    peak = Math.max(peak, processMemory(pid).rss);
    return { result, baseline, peak };
  } finally {
    clearInterval(sampler);
  }
}

/** Warm a server up (JIT, first chunk paths) so the baseline is the steady state, not the cold start. */
async function warmUp(server: BenchServer, size: number): Promise<UploadOutcome> {
  return tusUpload(server.url, size, 8 * MiB, { name: 'warm.bin' });
}

/**
 * Benchmark 2: peak RSS of the server process during one big upload (tus PATCH, 64 MiB chunks on local disk,
 * 8 MiB on S3 = the part size): 2 GiB into local disk (SQLite sessions, the `npm start` server) and 1 GiB into S3
 * (s3rver in the benchmark process, ValiBlob with the S3 provider in its own process). Growth = peak − RSS after
 * a warm-up upload. Target: growth <= 32 MiB for 2 GiB.
 */
export const memoryBenchmark: Benchmark = {
  name: 'memory',
  title: 'Server memory during one large upload',
  async run(): Promise<BenchResult> {
    const rows: BenchRow[] = [];
    const localSize = QUICK ? 256 * MiB : 2 * GiB;
    const s3Size = QUICK ? 64 * MiB : GiB;

    await withScratch('memory-local', async (dir) => {
      const server = await startValiBlob(dir);
      try {
        await warmUp(server, 32 * MiB);
        const expected = expectedSha256(localSize);
        const started = Date.now();
        const { result, baseline, peak } = await measureRss(server.pid, () =>
          tusUpload(server.url, localSize, 64 * MiB, { name: 'big.bin' }),
        );
        const ms = Date.now() - started;
        const file = join(dir, 'blobs', 'tus', result.id, 'big.bin');
        if ((await fileSha256(file)) !== expected) throw new Error('local: stored file differs');
        await rm(file);
        rows.push({
          case: `local disk + SQLite, ${localSize / MiB} MiB, 64 MiB chunks`,
          'baseline RSS MiB': mib(baseline),
          'peak RSS MiB': mib(peak),
          'growth MiB': mib(peak - baseline),
          'MiB/s': Math.round(mibPerSecond(localSize, ms)),
          'byte-exact': true,
        });
      } finally {
        await server.stop();
      }
    });

    await withScratch('memory-s3', async (dir) => {
      const s3 = await startS3rver('valiblob-bench');
      const server = await startScript('s3-valiblob.server.ts', {
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: s3.bucket,
        S3_TEMP_DIR: dir,
      });
      try {
        await warmUp(server, 16 * MiB);
        const expected = expectedSha256(s3Size);
        const started = Date.now();
        const { result, baseline, peak } = await measureRss(server.pid, () =>
          tusUpload(server.url, s3Size, 8 * MiB, { name: 'big.bin' }),
        );
        const ms = Date.now() - started;
        const object = await s3.client.send(
          new GetObjectCommand({ Bucket: s3.bucket, Key: `tus/${result.id}/big.bin` }),
        );
        const hash = createHash('sha256');
        for await (const chunk of object.Body as Readable) hash.update(chunk as Buffer);
        if (hash.digest('hex') !== expected) throw new Error('S3: stored object differs');
        rows.push({
          case: `S3 (s3rver) + memory sessions, ${s3Size / MiB} MiB, 8 MiB chunks`,
          'baseline RSS MiB': mib(baseline),
          'peak RSS MiB': mib(peak),
          'growth MiB': mib(peak - baseline),
          'MiB/s': Math.round(mibPerSecond(s3Size, ms)),
          'byte-exact': true,
        });
      } finally {
        await server.stop();
        await s3.stop();
      }
    });

    return {
      name: 'memory',
      title: this.title,
      rows,
      notes: [
        'RSS of the server process from /proc/<pid>/status, sampled every 50 ms; baseline = after a warm-up upload.',
        'S3 throughput is bounded by s3rver (a test double writing to local disk in the benchmark process), ' +
          'not by ValiBlob.',
        'Target: growth <= 32 MiB for the 2 GiB local upload.',
      ],
    };
  },
};
