import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitForListeningPort } from './child-port';

/** A running `npm start` server in a child process. */
export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Everything it printed so far (for failure messages). */
  output(): string;
  /** What it printed on stdout alone so far (e.g. to check every line is JSON with LOG_FORMAT=json). */
  stdout(): string;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful) and wait for exit. */
  stop(): Promise<void>;
}

const ROOT = join(__dirname, '..', '..');

/**
 * Start the runnable server exactly as `npm start` does (same entry, same loader) with extra env. PORT=0 picks
 * a free port, read back from the "listening on" log line.
 */
export async function startServer(env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/server/main.ts'], {
    cwd: ROOT,
    // DATABASE_URL / REDIS_URL / AUTH_TOKEN switch server behaviour: only what the test passes applies.
    env: { ...withoutServerEnv(process.env), PORT: '0', HOST: '127.0.0.1', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (data: Buffer) => void (stdout += data.toString()));
  const { port, output } = await waitForListeningPort(
    child,
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    'server',
    timeoutMs,
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    child,
    output,
    stdout: () => stdout,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Variables the runnable server reads: a developer's shell must not leak them into a test's server. */
const SERVER_ENV = [
  'DATABASE_URL',
  'REDIS_URL',
  'REDIS_CLUSTER',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'REDIS_PARTITION',
  'AUTH_TOKEN',
  'AUTH_TOKENS',
  'STORAGE_DIR',
  'MAX_UPLOAD_SIZE',
  'SQLITE_DRIVER',
  'LOCK_REQUEST_RELEASE',
  'WHOLE_FILE_CHECKSUM',
  'DIGEST_THREADS',
  'ALLOWED_TYPES',
  'ALLOWED_EXTENSIONS',
  'BLOCKED_EXTENSIONS',
  'SNIFF',
  'QUOTA_BYTES',
  'CLAMD',
  'CLAMD_ON_ERROR',
  'LOG_FORMAT',
  'ADMIN',
  'ADMIN_TOKEN',
  'METRICS',
];

function withoutServerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const key of SERVER_ENV) delete copy[key];
  return copy;
}
