import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PG_URL, portOpen } from '../test/support/services';
import { Benchmark, BenchResult } from './support/bench-result';
import { QUICK } from './support/processes';

/**
 * Benchmark 5: cleanup of expired sessions on PostgreSQL (100,000; quick: 10,000). Runs bench/cleanup.bench.ts in
 * its own process (so its peak RSS is the sweep's alone) and reads the JSON it prints.
 */
export const cleanupBenchmark: Benchmark = {
  name: 'cleanup',
  title: 'Cleanup of expired sessions (PostgreSQL)',
  async run(): Promise<BenchResult> {
    const sessions = QUICK ? 10_000 : 100_000;
    if (!(await portOpen(PG_URL))) {
      return {
        name: 'cleanup',
        title: this.title,
        rows: [{ sessions, result: 'skipped: PostgreSQL not reachable' }],
        notes: [],
      };
    }
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'cleanup.bench.ts')], {
        cwd: join(__dirname, '..'),
        env: { ...process.env, SESSIONS: String(sessions), PG_URL },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.once('exit', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`cleanup.bench.ts exited with ${code}:\n${err}${out}`)),
      );
    });
    const json = JSON.parse(output.slice(output.indexOf('{'), output.lastIndexOf('}') + 1));
    if (json.leftInTable !== 0 && json.report?.errors)
      throw new Error(`cleanup left ${json.leftInTable} sessions: ${output}`);
    return {
      name: 'cleanup',
      title: this.title,
      rows: [
        {
          'expired sessions': json.sessions,
          'batch size': json.batchSize,
          'sweep seconds': json.sweepSeconds,
          'sessions/s': json.sessionsPerSecond,
          'left in table': json.leftInTable,
          'RSS during sweep': `${json.rssDuringSweep.min} – ${json.rssDuringSweep.max}`,
          'peak RSS (process)': json.peakRss,
        },
      ],
      notes: [
        'bench/cleanup.bench.ts: StaleUploadCleanupService.runOnce() through the TypeORM store on a scratch ' +
          'PostgreSQL database (half unfinished uploads with provider state, half tombstones).',
      ],
    };
  },
};
