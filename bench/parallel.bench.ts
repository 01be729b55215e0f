import { rm } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Benchmark, BenchResult, BenchRow } from './support/bench-result';
import { cpuSecondsPerGiB, measureCpu } from './support/cpu-time';
import {
  BenchServer,
  MiB,
  mibPerSecond,
  percentile,
  processMemory,
  QUICK,
  startScript,
  startValiBlob,
  withScratch,
  mib,
} from './support/processes';
import { expectedSha256, fileSha256 } from './support/random-source';
import { rawUpload, restUpload, tusUpload, UploadOutcome } from './support/uploaders';

/** One parallel upload: what the client saw and where the stored file is. */
interface Finished {
  outcome: UploadOutcome;
  file: string;
}

/** Run `count` uploads at once against one server; aggregate speed, server CPU, chunk latencies, byte-exactness. */
async function runParallel(
  server: Pick<BenchServer, 'pid'>,
  count: number,
  size: number,
  upload: (i: number) => Promise<Finished>,
): Promise<Omit<BenchRow, 'uploads'>> {
  const baseline = processMemory(server.pid).rss;
  const started = Date.now();
  const { result: finished, cpuSeconds } = await measureCpu(server.pid, () =>
    Promise.all(Array.from({ length: count }, (_, i) => upload(i))),
  );
  const ms = Date.now() - started;
  const peak = processMemory(server.pid).peak;
  const expected = expectedSha256(size);
  let exact = 0;
  for (const { outcome, file } of finished) {
    const serverOk = outcome.serverSha256 === undefined || outcome.serverSha256 === expected;
    if ((await fileSha256(file)) === expected && serverOk) exact++;
    await rm(file, { force: true });
  }
  if (exact !== count) throw new Error(`${count - exact} of ${count} parallel uploads are not byte-exact`);
  const latencies = finished.flatMap(({ outcome }) => outcome.chunkMs);
  return {
    'aggregate MiB/s': Math.round(mibPerSecond(count * size, ms)),
    'server CPU s/GiB': cpuSecondsPerGiB(cpuSeconds, count * size),
    'chunk p50 ms': Math.round(percentile(latencies, 50)),
    'chunk p99 ms': Math.round(percentile(latencies, 99)),
    // Chunk requests refused with 503 TOO_MANY_WRITES (maxConcurrentWrites, default 64) and sent again after
    // Retry-After, as tus clients do: 100 uploads at once is more than one instance's default write slots.
    '503 retries': finished.reduce((sum, { outcome }) => sum + outcome.retries, 0),
    'byte-exact': `${exact}/${count}`,
    'server RSS before / peak MiB': `${mib(baseline)} / ${mib(peak)}`,
  };
}

/**
 * Benchmark 3: N parallel uploads (100 × 16 MiB; quick: 20 × 8 MiB), 4 MiB chunks, against one `npm start` server
 * (storage of BENCH_DIR, SQLite sessions and locks), half over tus and half over REST; then, in the same run, the
 * same N uploads against the raw pipe (gathered writes, fdatasync per chunk) as the limit line. Reports aggregate
 * MiB/s and the ratio, server CPU s/GiB, p50/p99 latency of the chunk requests, and checks every stored file.
 */
export const parallelBenchmark: Benchmark = {
  name: 'parallel',
  title: 'Parallel uploads',
  async run(): Promise<BenchResult> {
    const count = QUICK ? 20 : 100;
    const size = QUICK ? 8 * MiB : 16 * MiB;
    const chunk = 4 * MiB;
    expectedSha256(size);
    return withScratch('parallel', async (dir) => {
      mkdirSync(join(dir, 'raw'));
      const vali = await startValiBlob(join(dir, 'vali'));
      const raw = await startScript('raw-pipe.server.ts', { RAW_DIR: join(dir, 'raw') });
      try {
        await tusUpload(vali.url, 8 * MiB, chunk, { name: 'warm.bin' });
        await rawUpload(raw.url, 8 * MiB, chunk, { name: 'warm.bin' });
        const blobs = join(dir, 'vali', 'blobs');
        const valiRow = await runParallel(vali, count, size, (i) =>
          i % 2 === 0
            ? tusUpload(vali.url, size, chunk, { name: `p${i}.bin` }).then((outcome) => ({
                outcome,
                file: join(blobs, 'tus', outcome.id, `p${i}.bin`),
              }))
            : restUpload(vali.url, size, chunk, { name: `p${i}.bin` }).then((outcome) => ({
                outcome,
                file: join(blobs, 'bench', `p${i}.bin`),
              })),
        );
        const rawRow = await runParallel(raw, count, size, (i) =>
          rawUpload(raw.url, size, chunk, { name: `p${i}.bin` }).then((outcome) => ({
            outcome,
            file: join(dir, 'raw', outcome.id),
          })),
        );
        const ratio = Number(valiRow['aggregate MiB/s']) / Number(rawRow['aggregate MiB/s']);
        return {
          name: 'parallel',
          title: this.title,
          rows: [
            {
              uploads: `ValiBlob: ${count} × ${size / MiB} MiB (half tus, half REST)`,
              chunk: `${chunk / MiB} MiB`,
              ...valiRow,
              'vs raw pipe': Number(ratio.toFixed(2)),
            },
            {
              uploads: `raw pipe: ${count} × ${size / MiB} MiB`,
              chunk: `${chunk / MiB} MiB`,
              ...rawRow,
              'vs raw pipe': 1,
            },
          ],
          notes: [
            'One `npm start` server (fsync per chunk, SQLite sessions and SQL upload locks), then the raw pipe ' +
              '(~1 MiB writevs, fdatasync per chunk) with the same uploads; chunk latency = one PATCH/PUT request; ' +
              'server CPU = utime + stime of the server process during the whole batch, per GiB.',
          ],
        };
      } finally {
        await Promise.all([vali.stop(), raw.stop()]);
      }
    });
  },
};
