import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ServerProcess, startServer } from '../../test/support/server-process';
import { BENCH_DIR } from './storage';
import { pinServer, serverEnv } from './server-env';

const ROOT = join(__dirname, '..', '..');

/** A benchmark peer server in a child process. */
export type BenchServer = Pick<ServerProcess, 'url' | 'pid' | 'stop' | 'kill' | 'output'>;

/**
 * Start one of the bench/support servers (raw pipe, sink, @tus/server) in its own process, as ValiBlob runs in its
 * own, with the run's server env (`serverEnv`: no-SHA mask) and, in pinned mode, on the server core.
 */
export async function startScript(script: string, env: Record<string, string>): Promise<BenchServer> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'bench', 'support', script)], {
    cwd: ROOT,
    env: { ...process.env, ...serverEnv(env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${output}`)));
  });
  pinServer(child.pid!);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = (signal: NodeJS.Signals) => async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    output: () => output,
    stop: end('SIGTERM'),
    kill: end('SIGKILL'),
  };
}

/**
 * The runnable ValiBlob server (`npm start`) on local disk with SQLite sessions in a scratch directory, with the
 * run's server env (`serverEnv`) and, in pinned mode, on the server core.
 */
export async function startValiBlob(dir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServer(
    serverEnv({
      STORAGE_DIR: join(dir, 'blobs'),
      DATABASE_URL: `sqlite:${join(dir, 'sessions.sqlite')}`,
      ...env,
    }),
  );
  pinServer(server.pid);
  return server;
}

/** Current and peak resident set size of a process, in bytes (Linux `/proc/<pid>/status`). */
export function processMemory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** Run `work` with a fresh scratch directory in `BENCH_DIR` (the storage under test), removed afterwards. */
export async function withScratch<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(BENCH_DIR, `vb-bench-${prefix}-`));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** MiB/s of `bytes` moved in `ms`. */
export function mibPerSecond(bytes: number, ms: number): number {
  return bytes / 1024 / 1024 / (ms / 1000);
}

/** The p-th percentile (0..100) of a list of numbers (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Bytes → MiB with one decimal. */
export function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

/** Sizes used by the benchmarks: full (the numbers) or quick (BENCH_QUICK=1). */
export const QUICK = process.env.BENCH_QUICK === '1';
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
