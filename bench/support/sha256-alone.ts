import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cpuSecondsPerGiB } from './cpu-time';
import { mibPerSecond } from './processes';
import { serverCommand, serverEnv } from './server-env';

/** What hashing costs when nothing else runs: the reference for "server CPU per GiB" targets. */
export interface Sha256Alone {
  /** CPU seconds per GiB hashed. */
  cpuPerGiB: number;
  /** Hashing speed on one core. */
  mibPerSecond: number;
}

/**
 * Hash `bytes` with sha256 in a child process started like the benchmark's servers (same env, so the OpenSSL SHA
 * mask of `BENCH_SHA=off` applies; same core in pinned mode) and report its CPU seconds per GiB.
 */
export async function sha256Alone(bytes: number): Promise<Sha256Alone> {
  const [command, args] = serverCommand(process.execPath, [
    '-r',
    '@swc-node/register',
    join(__dirname, 'sha256-alone.child.ts'),
  ]);
  const { stdout } = await promisify(execFile)(command, args, {
    cwd: join(__dirname, '..', '..'),
    env: { ...process.env, ...serverEnv({ SHA_BYTES: String(bytes) }) },
  });
  const measured = JSON.parse(stdout.trim().split('\n').pop()!) as { cpuSeconds: number; seconds: number };
  return {
    cpuPerGiB: cpuSecondsPerGiB(measured.cpuSeconds, bytes),
    mibPerSecond: Math.round(mibPerSecond(bytes, measured.seconds * 1000)),
  };
}
