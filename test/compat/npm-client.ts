import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';

// Child processes of the compat tests: npm (the one running `npm test` when there is one) and plain node, with an
// environment that nothing outside the test can steer.

/** Thrown when the npm registry cannot be reached (the caller skips or, under CI=true, fails). */
export class RegistryUnreachableError extends Error {
  override readonly name = 'RegistryUnreachableError';
}

/** Output of a finished child process. */
export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// npm's own network failures (npm-registry-fetch / node errno codes): told apart from real install failures.
const NETWORK_ERROR =
  /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED|ERR_SOCKET_TIMEOUT)\b/;

/** Command line that runs npm: the same npm that runs `npm test` when there is one, else `npm` from PATH. */
export function npmCommand(args: string[]): [string, string[]] {
  const execPath = process.env.npm_execpath;
  if (execPath && /npm-cli\.js$/.test(execPath)) return [process.execPath, [execPath, ...args]];
  return ['npm', args];
}

/**
 * Environment for child processes: quiet npm, no lifecycle leftovers of an outer `npm test`, nothing that steers
 * module loading (no inherited --require/--loader, no NODE_PATH pointing at the checkout).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(lifecycle|package)_/i.test(key) || key === 'NODE_OPTIONS' || key === 'NODE_PATH') continue;
    env[key] = value;
  }
  return {
    ...env,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    NO_COLOR: '1',
    ...extra,
  };
}

/** Run a child process to completion, capturing its output; rejects only on spawn failure or timeout. */
export function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = childEnv(),
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Run npm; a non-zero exit throws, as `RegistryUnreachableError` when the output says the network failed. */
export async function npm(args: string[], cwd: string, timeoutMs: number): Promise<ChildResult> {
  const [command, argv] = npmCommand(args);
  const result = await run(command, argv, cwd, timeoutMs);
  if (result.code !== 0) {
    const message = `npm ${args.join(' ')} (in ${cwd}) exited with ${result.code}:\n${result.stderr.slice(-4000)}`;
    throw NETWORK_ERROR.test(result.stderr) ? new RegistryUnreachableError(message) : new Error(message);
  }
  return result;
}

/**
 * Whether `npm ping` reaches the configured registry (synchronous so a spec can decide `describe` vs
 * `describe.skip` before jest collects tests). npm's own client is used so proxies and .npmrc apply.
 */
export function registryReachable(): { ok: boolean; detail: string } {
  const [command, argv] = npmCommand(['ping', '--fetch-retries=0', '--fetch-timeout=10000']);
  const result = spawnSync(command, argv, { cwd: tmpdir(), env: childEnv(), encoding: 'utf8', timeout: 20_000 });
  const lines = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n');
  // The useful lines are the error code and the failed request; the rest is stack and boilerplate.
  const detail = lines.filter((line) => /npm error (code |.*request to )/.test(line)).join(' | ');
  return { ok: result.status === 0, detail: detail || String(result.error ?? 'no output') };
}
