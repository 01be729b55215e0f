/**
 * `npm run bench` — runs the benchmarks, prints each table, writes `bench/results/latest.json` + `latest.md` and
 * this configuration's `bench/results/<disk|tmpfs>-<sha|nosha>[-pinned].json` (git-ignored; quick runs:
 * `….quick.json`), and after a complete full run regenerates `bench/RESULTS.md` (committed) from ALL configuration
 * files there, one section per configuration.
 *
 *   npm run bench                         # everything, full sizes (1-2 GiB uploads: takes a while)
 *   BENCH_QUICK=1 npm run bench           # small sizes, for checking the scripts (and CI)
 *   npm run bench -- throughput store-ops # only the named benchmarks
 *   BENCH_DIR=/dev/shm npm run bench      # storage under test: tmpfs (default os.tmpdir())
 *   BENCH_SHA=off npm run bench           # or `npm run bench -- --no-sha`: servers' sha256 without SHA extensions
 *   BENCH_PIN=1 npm run bench             # servers on core 1, this client on core 0
 *
 * Names: see BENCHMARKS. Env: BENCH_ROUNDS (throughput rounds), BENCH_SERVER_ENV (JSON env for the default
 * ValiBlob throughput server), PG_URL, REDIS_TEST_URL. A quick or partial run does not regenerate bench/RESULTS.md
 * unless BENCH_WRITE_RESULTS=1 (a quick run then builds it from the quick files).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Benchmark, BenchResult, markdownTable } from './support/bench-result';
import { benchConfiguration, describeConfiguration } from './support/bench-config';
import { QUICK } from './support/processes';
import {
  configurationMarkdown,
  resultsMarkdown,
  RESULTS_DIR,
  saveConfigurationResults,
  StoredResult,
} from './support/results-file';
import { pinClient } from './support/server-env';
import { throughputBenchmark } from './throughput.bench';
import { memoryBenchmark } from './memory.bench';
import { parallelBenchmark } from './parallel.bench';
import { storeOpsBenchmark } from './store-ops.bench';
import { cleanupBenchmark } from './cleanup.runner';
import { roundTripsBenchmark } from './round-trips.bench';
import { cloudBenchmark } from './cloud.bench';

/**
 * The benchmark registry: `npm run bench -- <name>` selects by name, and a complete run is all of them.
 * ── Extension point: add new benchmarks at the end (and their import above), e.g. `cloudBenchmark` from
 * bench/cloud.bench.ts and `roundTripsBenchmark` from bench/round-trips.bench.ts. ──
 */
const BENCHMARKS: Benchmark[] = [
  throughputBenchmark,
  memoryBenchmark,
  parallelBenchmark,
  storeOpsBenchmark,
  cleanupBenchmark,
  roundTripsBenchmark,
  cloudBenchmark,
  // (new benchmarks here)
];

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
  pinClient();
  const selected = wanted.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => wanted.includes(b.name));
  const configuration = benchConfiguration();
  const startedAt = new Date().toISOString();
  const results: StoredResult[] = [];
  console.log(`ValiBlob benchmarks (${QUICK ? 'QUICK' : 'full'} mode), configuration ${configuration.key}:`);
  console.log(`  ${describeConfiguration(configuration)}`);
  const failed: string[] = [];
  for (const benchmark of selected) {
    const loadBefore = load();
    console.log(`\n## ${benchmark.title} [${benchmark.name}] — load average before: ${loadBefore}`);
    const started = Date.now();
    const benchStartedAt = new Date().toISOString();
    let result: BenchResult;
    try {
      result = await benchmark.run();
    } catch (error) {
      // One broken benchmark must not throw away the others' results of a long run; the exit code still says so.
      console.error(error);
      console.log(`  FAILED: ${benchmark.name} (not recorded)`);
      failed.push(benchmark.name);
      continue;
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    const entry = { ...result, startedAt: benchStartedAt, loadBefore, loadAfter: load(), seconds };
    results.push(entry);
    console.log(markdownTable(result.rows));
    for (const note of result.notes) console.log(`  - ${note}`);
    console.log(`  (${entry.seconds} s; load average after: ${entry.loadAfter})`);
  }

  const order = BENCHMARKS.map((b) => b.name);
  const configFile = saveConfigurationResults(configuration, QUICK, results);
  const latest = { startedAt, quick: QUICK, configuration, results };
  writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(latest, null, 2)}\n`);
  const latestMarkdown = configurationMarkdown(
    { configuration, quick: QUICK, results: Object.fromEntries(results.map((r) => [r.name, r])) },
    order,
    '#',
  );
  writeFileSync(join(RESULTS_DIR, 'latest.md'), `${latestMarkdown}\n`);
  const complete = !QUICK && selected.length === BENCHMARKS.length && failed.length === 0;
  const writeResults = complete || process.env.BENCH_WRITE_RESULTS === '1';
  if (writeResults) writeFileSync(join(__dirname, 'RESULTS.md'), resultsMarkdown(QUICK, order));
  console.log(
    `\nWrote ${configFile}, ${join(RESULTS_DIR, 'latest.json')}${writeResults ? ' and bench/RESULTS.md' : ''}`,
  );
  if (failed.length > 0) {
    console.error(`Failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
