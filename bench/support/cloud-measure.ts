import { createHash } from 'node:crypto';
import { GiB, mib, mibPerSecond, processMemory } from './processes';
import { processCpuSeconds as cpuSeconds } from './cpu-time';

/** The column both cloud parts fill with the storage requests of the measured upload. */
export const STORAGE_REQUESTS = 'storage requests (measured upload)';

/** Rounds per contender (the fastest is reported, like the throughput benchmark): `BENCH_ROUNDS`, default 2. */
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2) || 2);

/**
 * Run `count` contenders `ROUNDS` times, alternating their order (reversed in every second round) so neither always
 * runs on the machine the other just warmed or loaded. Returns each contender's results in round order.
 */
export async function alternateRounds<T>(count: number, run: (index: number) => Promise<T>): Promise<T[][]> {
  const results: T[][] = Array.from({ length: count }, () => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = [...Array(count).keys()];
    if (round % 2 === 1) order.reverse();
    for (const index of order) results[index].push(await run(index));
  }
  return results;
}

/** What one measured upload cost the server (and, for context, the storage emulator). */
export interface UploadCost<T> {
  result: T;
  ms: number;
  /** Server RSS after the warm-up, before this upload (bytes). */
  baseline: number;
  /** Highest server RSS seen while it ran (bytes). */
  peak: number;
  /** Server CPU seconds (utime + stime) spent while it ran. */
  serverCpu: number;
  /** CPU seconds of the storage process (Azurite, or s3rver's = the benchmark's own), null when unknown. */
  storeCpu: number | null;
}

/**
 * Run `work` (one upload) while sampling the server's RSS every 50 ms from `/proc/<pid>/status`, and read the
 * server's (and the store's) utime + stime before and after it.
 */
export async function measureUpload<T>(
  serverPid: number,
  storePid: number | null,
  work: () => Promise<T>,
): Promise<UploadCost<T>> {
  const baseline = processMemory(serverPid).rss;
  let peak = baseline;
  const sample = () => {
    try {
      peak = Math.max(peak, processMemory(serverPid).rss);
    } catch {
      // the process ended; `work` fails and says why
    }
  };
  const sampler = setInterval(sample, 50);
  const serverBefore = cpuSeconds(serverPid);
  const storeBefore = storePid === null ? 0 : cpuSeconds(storePid);
  const started = process.hrtime.bigint();
  try {
    const result = await work();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    sample();
    return {
      result,
      ms,
      baseline,
      peak,
      serverCpu: cpuSeconds(serverPid) - serverBefore,
      storeCpu: storePid === null ? null : cpuSeconds(storePid) - storeBefore,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** The common columns of one contender's row. */
export function costColumns(cost: UploadCost<unknown>, size: number): Record<string, number | string> {
  const perGiB = (seconds: number) => Math.round((seconds * GiB * 100) / size) / 100;
  return {
    'MiB/s': Math.round(mibPerSecond(size, cost.ms) * 10) / 10,
    'server CPU s/GiB': perGiB(cost.serverCpu),
    'store CPU s/GiB': cost.storeCpu === null ? '' : perGiB(cost.storeCpu),
    'baseline RSS MiB': mib(cost.baseline),
    'peak RSS MiB': mib(cost.peak),
    'growth MiB': mib(cost.peak - cost.baseline),
  };
}

/** sha256 (hex) of a downloaded body. */
export async function streamSha256(body: AsyncIterable<unknown>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `counts` as `kind n` pairs, largest first, plus the total, joined for a table cell. */
export function formatCounts(counts: Record<string, number>): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return [...entries.map(([kind, n]) => `${kind} ${n}`), `total ${total}`].join(', ');
}
