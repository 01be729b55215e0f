/**
 * `npm run bench` — runs the benchmarks, prints each table, and writes `bench/results/latest.json` (git-ignored)
 * plus `bench/RESULTS.md` (committed: the latest full run, with the machine and its load).
 *
 *   npm run bench                         # everything, full sizes (1-2 GiB uploads: takes a while)
 *   BENCH_QUICK=1 npm run bench           # small sizes, for checking the scripts
 *   npm run bench -- throughput store-ops # only the named benchmarks
 *
 * Names: throughput, memory, parallel, store-ops, cleanup. Env: BENCH_ROUNDS (throughput rounds), PG_URL,
 * REDIS_TEST_URL. A quick or partial run does not overwrite bench/RESULTS.md unless BENCH_WRITE_RESULTS=1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Benchmark, BenchResult, markdownTable } from './support/bench-result';
import { QUICK } from './support/processes';
import { throughputBenchmark } from './throughput.bench';
import { memoryBenchmark } from './memory.bench';
import { parallelBenchmark } from './parallel.bench';
import { storeOpsBenchmark } from './store-ops.bench';
import { cleanupBenchmark } from './cleanup.runner';

const BENCHMARKS: Benchmark[] = [
  throughputBenchmark,
  memoryBenchmark,
  parallelBenchmark,
  storeOpsBenchmark,
  cleanupBenchmark,
];

function machine(): Record<string, string | number> {
  const cpu = cpus();
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    memory: `${Math.round(totalmem() / 1024 ** 3)} GiB`,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !BENCHMARKS.some((b) => b.name === w));
  if (unknown.length > 0) {
    console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    process.exit(2);
  }
  const selected = wanted.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => wanted.includes(b.name));
  const startedAt = new Date().toISOString();
  const results: Array<BenchResult & { loadBefore: string; loadAfter: string; seconds: number }> = [];
  console.log(`ValiBlob benchmarks (${QUICK ? 'QUICK' : 'full'} mode) on ${JSON.stringify(machine())}`);
  for (const benchmark of selected) {
    const loadBefore = load();
    console.log(`\n## ${benchmark.title} [${benchmark.name}] — load average before: ${loadBefore}`);
    const started = Date.now();
    const result = await benchmark.run();
    const entry = { ...result, loadBefore, loadAfter: load(), seconds: Math.round((Date.now() - started) / 1000) };
    results.push(entry);
    console.log(markdownTable(result.rows));
    for (const note of result.notes) console.log(`  - ${note}`);
    console.log(`  (${entry.seconds} s; load average after: ${entry.loadAfter})`);
  }

  const report = { startedAt, quick: QUICK, machine: machine(), results };
  const resultsDir = join(__dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = [
    '# Benchmark results',
    '',
    `Run ${startedAt} with \`npm run bench\`${QUICK ? ' (BENCH_QUICK=1)' : ''} ` +
      `on ${Object.values(machine()).join(', ')}.`,
    'The machine was shared with other jobs; the load average (1/5/15 min) is noted per benchmark.',
    '',
    ...results.flatMap((r) => [
      `## ${r.title}`,
      '',
      markdownTable(r.rows),
      '',
      ...r.notes.map((n) => `- ${n}`),
      `- Load average before/after: ${r.loadBefore} / ${r.loadAfter}; ${r.seconds} s.`,
      '',
    ]),
  ].join('\n');
  writeFileSync(join(resultsDir, 'latest.md'), markdown);
  const complete = !QUICK && selected.length === BENCHMARKS.length;
  if (complete || process.env.BENCH_WRITE_RESULTS === '1') writeFileSync(join(__dirname, 'RESULTS.md'), markdown);
  console.log(`\nWrote ${join(resultsDir, 'latest.json')}${complete ? ' and bench/RESULTS.md' : ''}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
