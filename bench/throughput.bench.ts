import { rm } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Benchmark, BenchResult, BenchRow } from './support/bench-result';
import { cpuSecondsPerGiB, measureCpu } from './support/cpu-time';
import { GiB, MiB, mibPerSecond, QUICK, startScript, startValiBlob, withScratch } from './support/processes';
import { expectedSha256, fileSha256 } from './support/random-source';
import { sha256Alone } from './support/sha256-alone';
import { storageKind } from './support/storage';
import { Cell, targetNotes } from './support/throughput-targets';
import { rawUpload, restUpload, tusUpload, UploadOutcome } from './support/uploaders';

/** One contender: which server process, how to upload, and where the finished file lands (none for the sink). */
interface Contender {
  key: string;
  name: string;
  pid: number;
  upload(size: number, chunk: number, name: string): Promise<UploadOutcome>;
  fileOf?(outcome: UploadOutcome, name: string): string;
}

/** Upload once, check the stored bytes outside the timed section, and return speed and server CPU per GiB. */
async function measureOne(contender: Contender, size: number, chunk: number, name: string): Promise<Cell> {
  const started = process.hrtime.bigint();
  const { result: outcome, cpuSeconds } = await measureCpu(contender.pid, () => contender.upload(size, chunk, name));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (contender.fileOf) {
    const file = contender.fileOf(outcome, name);
    if ((await fileSha256(file)) !== expectedSha256(size)) {
      throw new Error(`${contender.name}: stored file differs from what was sent`);
    }
    await rm(file, { force: true });
  }
  if (outcome.serverSha256 !== undefined && outcome.serverSha256 !== expectedSha256(size)) {
    throw new Error(`${contender.name}: server-reported sha256 differs`);
  }
  return { mibPerSecond: mibPerSecond(size, ms), cpuPerGiB: cpuSecondsPerGiB(cpuSeconds, size) };
}

/**
 * Benchmark 1: throughput into the storage of `BENCH_DIR` (disk or tmpfs), one upload at a time, all contenders in
 * the same run, each server in its own process: ValiBlob's tus PATCH and REST chunk paths (the real `npm start`
 * server, SQLite offsets, fsync per chunk, whole-file sha256), the limit lines (raw pipe gathering ~1 MiB writevs
 * with fdatasync per chunk; a sink that drops the body = network + HTTP parser), @tus/server + @tus/file-store, and
 * context rows (ValiBlob without the whole-file sha256, with the digest on the main thread, raw pipe without fsync).
 * Every row: MiB/s and the server process's CPU seconds per GiB (/proc/<pid>/stat, all threads). Every stored file
 * is checked byte-exact (sha256 of the file) outside the timed section.
 */
export const throughputBenchmark: Benchmark = {
  name: 'throughput',
  title: 'Throughput, one upload at a time',
  async run(): Promise<BenchResult> {
    const size = QUICK ? 128 * MiB : GiB;
    const chunkSizes = QUICK ? [1 * MiB, 8 * MiB] : [1 * MiB, 8 * MiB, 64 * MiB];
    const rounds = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 2));
    // Measured first, while no server runs: the digest's cost alone, with the servers' env (no-SHA mask).
    const shaAlone = await sha256Alone(QUICK ? 256 * MiB : GiB);
    return withScratch('throughput', async (dir) => {
      for (const sub of ['raw', 'raw-nosync', 'tus-node']) mkdirSync(join(dir, sub));
      const valiEnv = process.env.BENCH_SERVER_ENV ? JSON.parse(process.env.BENCH_SERVER_ENV) : {};
      const servers = {
        raw: await startScript('raw-pipe.server.ts', { RAW_DIR: join(dir, 'raw') }),
        rawNoSync: await startScript('raw-pipe.server.ts', { RAW_DIR: join(dir, 'raw-nosync'), RAW_FSYNC: '0' }),
        sink: await startScript('sink.server.ts', {}),
        tusNode: await startScript('tus-node.server.ts', { TUS_DIR: join(dir, 'tus-node') }),
        vali: await startValiBlob(join(dir, 'vali'), valiEnv),
        valiNoHash: await startValiBlob(join(dir, 'vali-nohash'), { ...valiEnv, WHOLE_FILE_CHECKSUM: 'false' }),
        valiMainDigest: await startValiBlob(join(dir, 'vali-main'), { ...valiEnv, DIGEST_THREADS: '0' }),
      };
      const tusFile = (sub: string) => (o: UploadOutcome, n: string) => join(dir, sub, 'blobs', 'tus', o.id, n);
      const contenders: Contender[] = [
        {
          key: 'raw',
          name: 'raw pipe, gathered writes, fdatasync per chunk',
          pid: servers.raw.pid,
          upload: (s, c, n) => rawUpload(servers.raw.url, s, c, { name: n }),
          fileOf: (o) => join(dir, 'raw', o.id),
        },
        {
          key: 'sink',
          name: 'sink: body read and dropped (network + HTTP limit)',
          pid: servers.sink.pid,
          upload: (s, c, n) => rawUpload(servers.sink.url, s, c, { name: n }),
        },
        {
          key: 'tus',
          name: 'ValiBlob tus PATCH',
          pid: servers.vali.pid,
          upload: (s, c, n) => tusUpload(servers.vali.url, s, c, { name: n }),
          fileOf: tusFile('vali'),
        },
        {
          key: 'rest',
          name: 'ValiBlob REST chunks',
          pid: servers.vali.pid,
          upload: (s, c, n) => restUpload(servers.vali.url, s, c, { name: n }),
          fileOf: (_o, n) => join(dir, 'vali', 'blobs', 'bench', n),
        },
        {
          key: 'tus-node',
          name: '@tus/server + file-store',
          pid: servers.tusNode.pid,
          upload: (s, c, n) => tusUpload(servers.tusNode.url, s, c, { name: n }),
          fileOf: (o) => join(dir, 'tus-node', o.id),
        },
        {
          key: 'tus-nohash',
          name: 'ValiBlob tus, no whole-file sha256 (context)',
          pid: servers.valiNoHash.pid,
          upload: (s, c, n) => tusUpload(servers.valiNoHash.url, s, c, { name: n }),
          fileOf: tusFile('vali-nohash'),
        },
        {
          key: 'tus-main-digest',
          name: 'ValiBlob tus, digest on the main thread, DIGEST_THREADS=0 (context)',
          pid: servers.valiMainDigest.pid,
          upload: (s, c, n) => tusUpload(servers.valiMainDigest.url, s, c, { name: n }),
          fileOf: tusFile('vali-main'),
        },
        {
          key: 'raw-nosync',
          name: 'raw pipe, no fsync (context)',
          pid: servers.rawNoSync.pid,
          upload: (s, c, n) => rawUpload(servers.rawNoSync.url, s, c, { name: n }),
          fileOf: (o) => join(dir, 'raw-nosync', o.id),
        },
      ];
      expectedSha256(size);
      expectedSha256(16 * MiB);
      const best = new Map<string, Cell>();
      let counter = 0;
      try {
        // Warm-up (JIT, first SQLite writes, first files) so the first measured contender is not penalised.
        for (const contender of contenders) await measureOne(contender, 16 * MiB, 8 * MiB, `warm-${counter++}.bin`);
        for (let round = 0; round < rounds; round++) {
          for (const chunk of chunkSizes) {
            // Rotate the order every round so no contender always runs on a warmer/colder page cache.
            const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
            for (const contender of order) {
              const cell = await measureOne(contender, size, chunk, `file-${counter++}.bin`);
              const key = `${contender.key}|${chunk}`;
              const previous = best.get(key);
              // Best speed and least CPU over the rounds: both are what the machine allows when undisturbed.
              best.set(key, {
                mibPerSecond: Math.max(previous?.mibPerSecond ?? 0, cell.mibPerSecond),
                cpuPerGiB: Math.min(previous?.cpuPerGiB ?? Infinity, cell.cpuPerGiB),
              });
            }
          }
        }
      } finally {
        await Promise.all(Object.values(servers).map((server) => server.stop()));
      }
      const cellOf = (key: string, chunk: number) => best.get(`${key}|${chunk}`);
      const rows: BenchRow[] = [];
      for (const chunk of chunkSizes) {
        const raw = cellOf('raw', chunk)!;
        const peer = cellOf('tus-node', chunk)!;
        for (const contender of contenders) {
          const cell = cellOf(contender.key, chunk)!;
          rows.push({
            path: contender.name,
            upload: `${size / MiB} MiB`,
            chunk: `${chunk / MiB} MiB`,
            'MiB/s': Math.round(cell.mibPerSecond),
            'vs raw pipe': Number((cell.mibPerSecond / raw.mibPerSecond).toFixed(2)),
            'vs @tus/server': Number((cell.mibPerSecond / peer.mibPerSecond).toFixed(2)),
            'server CPU s/GiB': cell.cpuPerGiB,
          });
        }
      }
      rows.push({
        path: 'sha256 alone (hashing in a child process with the servers’ env; no upload)',
        upload: `${(QUICK ? 256 * MiB : GiB) / MiB} MiB`,
        chunk: '',
        'MiB/s': shaAlone.mibPerSecond,
        'vs raw pipe': '',
        'vs @tus/server': '',
        'server CPU s/GiB': shaAlone.cpuPerGiB,
      });
      return {
        name: 'throughput',
        title: this.title,
        rows,
        notes: [
          `Best of ${rounds} round(s) per cell (highest MiB/s, lowest CPU); every stored file verified by sha256; ` +
            'all servers on 127.0.0.1 in their own processes. Server CPU = utime + stime of the server process ' +
            '(all threads, /proc/<pid>/stat) during the upload, per GiB uploaded ' +
            '(10 ms ticks: coarse for small uploads).',
          'ValiBlob: `npm start` server, SQLite sessions (WAL) and SQL upload locks, fsync per chunk, ' +
            'whole-file sha256 while streaming. Raw pipe: ~1 MiB writevs, fdatasync per chunk (same durability). ' +
            'Sink: reads the body into nothing. @tus/server FileStore: no fsync. ' +
            'Rows marked "context" are not targets.',
          ...targetNotes(storageKind(), chunkSizes, cellOf, shaAlone.cpuPerGiB),
        ],
      };
    });
  },
};
