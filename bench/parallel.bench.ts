import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Benchmark, BenchResult } from './support/bench-result';
import {
  MiB,
  mibPerSecond,
  percentile,
  processMemory,
  QUICK,
  startValiBlob,
  withScratch,
  mib,
} from './support/processes';
import { expectedSha256, fileSha256 } from './support/random-source';
import { restUpload, tusUpload, UploadOutcome } from './support/uploaders';

/**
 * Benchmark 3: N parallel uploads (100 × 16 MiB; quick: 20 × 8 MiB) against one `npm start` server (local disk,
 * SQLite sessions and locks), half over tus and half over REST, 4 MiB chunks. Reports aggregate MiB/s, p50/p99
 * latency of the chunk requests, and checks every stored file byte for byte.
 */
export const parallelBenchmark: Benchmark = {
  name: 'parallel',
  title: 'Parallel uploads',
  async run(): Promise<BenchResult> {
    const count = QUICK ? 20 : 100;
    const size = QUICK ? 8 * MiB : 16 * MiB;
    const chunk = 4 * MiB;
    const expected = expectedSha256(size);
    return withScratch('parallel', async (dir) => {
      const server = await startValiBlob(dir);
      try {
        await tusUpload(server.url, 8 * MiB, chunk, { name: 'warm.bin' });
        const baseline = processMemory(server.pid).rss;
        const started = Date.now();
        const outcomes = await Promise.all(
          Array.from({ length: count }, (_, i) =>
            i % 2 === 0
              ? tusUpload(server.url, size, chunk, { name: `p${i}.bin` }).then((o) => ({
                  o,
                  file: join(dir, 'blobs', 'tus', o.id, `p${i}.bin`),
                }))
              : restUpload(server.url, size, chunk, { name: `p${i}.bin` }).then((o) => ({
                  o,
                  file: join(dir, 'blobs', 'bench', `p${i}.bin`),
                })),
          ),
        );
        const ms = Date.now() - started;
        const peak = processMemory(server.pid).peak;
        let exact = 0;
        for (const { o, file } of outcomes as Array<{ o: UploadOutcome; file: string }>) {
          if ((await fileSha256(file)) === expected && (o.serverSha256 === undefined || o.serverSha256 === expected))
            exact++;
          await rm(file, { force: true });
        }
        if (exact !== count) throw new Error(`${count - exact} of ${count} parallel uploads are not byte-exact`);
        const latencies = outcomes.flatMap(({ o }) => o.chunkMs);
        return {
          name: 'parallel',
          title: this.title,
          rows: [
            {
              uploads: `${count} × ${size / MiB} MiB (half tus, half REST)`,
              chunk: `${chunk / MiB} MiB`,
              'aggregate MiB/s': Math.round(mibPerSecond(count * size, ms)),
              'chunk p50 ms': Math.round(percentile(latencies, 50)),
              'chunk p99 ms': Math.round(percentile(latencies, 99)),
              'byte-exact': `${exact}/${count}`,
              'server RSS before / peak MiB': `${mib(baseline)} / ${mib(peak)}`,
            },
          ],
          notes: [
            'One `npm start` server: local disk (fsync per chunk), SQLite sessions and SQL upload locks; ' +
              'chunk latency = one PATCH/PUT request.',
          ],
        };
      } finally {
        await server.stop();
      }
    });
  },
};
