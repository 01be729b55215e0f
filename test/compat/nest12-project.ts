import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The checkout whose build is packed (this repository). */
export const CHECKOUT = join(__dirname, '..', '..');

/** The ESM Nest 12 app the smoke test runs (fixture, copied into the throw-away project). */
export const SMOKE_APP = join(CHECKOUT, 'scripts', 'nest12-smoke', 'app.mjs');

/**
 * What the throw-away project installs from the registry besides the packed library. Ranges, not pins: the
 * point is to catch the Nest 12 line moving under us (the cache below expires so new 12.x releases get in).
 */
export const NEST12_DEPENDENCIES: Readonly<Record<string, string>> = {
  '@nestjs/common': '^12.0.0',
  '@nestjs/core': '^12.0.0',
  '@nestjs/platform-express': '^12.0.0',
  'reflect-metadata': '^0.2.0',
  rxjs: '^7.8.0',
};

/** How long an installed dependency tree is reused before it is installed afresh. */
const CACHE_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/**
 * The cache lives under the OS temp dir, NOT under the checkout: Node resolves bare specifiers by walking up
 * the directories, so a project under /work/main/.tmp would fall back to /work/main/node_modules (Nest 11,
 * @nestjs/schedule 6 …) for anything it lacks — exactly the mix-up this test exists to rule out.
 */
const CACHE_ROOT = process.env.NEST12_SMOKE_CACHE ?? join(tmpdir(), 'vali-blob-nest12-smoke');

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
const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED|ERR_SOCKET_TIMEOUT)\b/;

/** Command line that runs npm: the same npm that runs `npm test` when there is one, else `npm` from PATH. */
function npmCommand(args: string[]): [string, string[]] {
  const execPath = process.env.npm_execpath;
  if (execPath && /npm-cli\.js$/.test(execPath)) return [process.execPath, [execPath, ...args]];
  return ['npm', args];
}

/** Environment for the child npm/node processes: quiet npm, no lifecycle leftovers of an outer `npm test`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(lifecycle|package)_/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', NO_COLOR: '1', ...extra };
}

/** Run a child process to completion, capturing its output; rejects only on spawn failure or timeout. */
export function run(command: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = childEnv()): Promise<ChildResult> {
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
async function npm(args: string[], cwd: string, timeoutMs: number): Promise<ChildResult> {
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

/** Whether this Node loads ES modules through `require()` (on by default from 20.19 / 22.12). */
export function requireEsmSupported(): boolean {
  return (process.features as { require_module?: boolean }).require_module === true;
}

/** Cache key: everything that decides the installed tree except the library build itself. */
function cacheKey(): string {
  const manifest = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  const input = JSON.stringify({
    nest: NEST12_DEPENDENCIES,
    libraryDependencies: manifest.dependencies ?? {},
    libraryPeers: manifest.peerDependencies ?? {},
    node: process.versions.node.split('.')[0],
  });
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

/** Directory of the cached dependency tree (may not exist yet). */
export function cachedProjectDir(): string {
  return join(CACHE_ROOT, cacheKey());
}

/** Whether a usable cached dependency tree exists (installed, complete, not too old). */
export function cacheWarm(): boolean {
  const marker = join(cachedProjectDir(), '.ready');
  if (process.env.NEST12_SMOKE_REFRESH === '1' || !existsSync(marker)) return false;
  try {
    const { createdAt } = JSON.parse(readFileSync(marker, 'utf8')) as { createdAt: number };
    return Date.now() - createdAt < CACHE_MAX_AGE_MS;
  } catch {
    return false;
  }
}

/** `npm run build` then `npm pack` of the checkout; returns the tarball and the files npm put in it. */
export async function buildAndPack(): Promise<{ tarball: string; files: string[] }> {
  await npm(['run', 'build'], CHECKOUT, 120_000);
  const destination = await mkdtemp(join(tmpdir(), 'vb-nest12-pack-'));
  const packed = await npm(['pack', '--json', '--pack-destination', destination], CHECKOUT, 60_000);
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  return { tarball: join(destination, info.filename), files: info.files.map((file) => file.path) };
}

/**
 * Install the registry dependencies (Nest 12 and the library's own runtime dependencies) once into the cache,
 * atomically: a half-finished install never looks ready.
 */
async function ensureCachedProject(): Promise<string> {
  const dir = cachedProjectDir();
  if (cacheWarm()) return dir;
  mkdirSync(CACHE_ROOT, { recursive: true });
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  writeFileSync(join(partial, 'package.json'), `${JSON.stringify({ name: 'vali-blob-nest12-smoke', version: '0.0.0', private: true }, null, 2)}\n`);
  // The library's own dependencies go in here too, so installing the tarball later needs no registry.
  const specs = Object.entries({ ...NEST12_DEPENDENCIES, ...(manifest.dependencies ?? {}) }).map(([name, range]) => `${name}@${range}`);
  try {
    await npm(['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], partial, 180_000);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  writeFileSync(join(partial, '.ready'), JSON.stringify({ createdAt: Date.now(), specs }));
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return dir;
}

/** A throw-away project with Nest 12 from the registry and the freshly packed library installed from its tarball. */
export interface SmokeProject {
  dir: string;
  /** Whether the registry dependencies came from the cache. */
  fromCache: boolean;
  timings: Record<string, number>;
  dispose(): void;
}

/**
 * Build, pack and install: a private copy of the cached tree (so concurrent runs and the cache stay clean),
 * then `npm install <tarball>` into it, then a byte-for-byte check that what got installed is this build.
 */
export async function prepareSmokeProject(): Promise<SmokeProject> {
  const timings: Record<string, number> = {};
  const time = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      timings[label] = Date.now() - started;
    }
  };
  const fromCache = cacheWarm();
  const { tarball, files } = await time('buildAndPackMs', buildAndPack);
  const cached = await time('registryInstallMs', ensureCachedProject);
  const dir = await mkdtemp(join(tmpdir(), 'vb-nest12-run-'));
  try {
    await time('copyMs', async () => cpSync(cached, dir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true }));
    cpSync(tarball, join(dir, 'vali-blob-nestjs.tgz'));
    // --no-save: the tarball changes on every build, so it must not become a locked dependency of the cache.
    // --offline first: everything the tarball needs is already in the tree and npm's cache, so a warm run works
    // without the registry; only if npm still wants something does it go online (bounded retries).
    const install = ['install', '--no-audit', '--no-fund', '--loglevel=error', '--no-save'];
    await time('libraryInstallMs', async () => {
      try {
        await npm([...install, '--offline', './vali-blob-nestjs.tgz'], dir, 120_000);
      } catch {
        await npm([...install, '--prefer-offline', '--fetch-retries=1', '--fetch-timeout=30000', './vali-blob-nestjs.tgz'], dir, 120_000);
      }
    });
    await assertInstalledMatchesBuild(dir, files);
    cpSync(SMOKE_APP, join(dir, 'app.mjs'));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    rmSync(join(tarball, '..'), { recursive: true, force: true });
  }
  return { dir, fromCache, timings, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every packed file must be byte-identical to the checkout's: proves npm installed this build, not a stale one. */
async function assertInstalledMatchesBuild(dir: string, files: string[]): Promise<void> {
  const installedRoot = join(dir, 'node_modules', '@vali-blob', 'nestjs');
  const jsFiles = files.filter((file) => file.endsWith('.js'));
  if (jsFiles.length === 0) throw new Error('npm pack listed no .js files: is the build empty?');
  for (const file of files) {
    const [ours, theirs] = await Promise.all([readFile(join(CHECKOUT, file)), readFile(join(installedRoot, file))]);
    if (!ours.equals(theirs)) throw new Error(`installed ${file} differs from the fresh build`);
  }
}

/** What scripts/nest12-smoke/app.mjs reports. */
export interface SmokeResult {
  node: string;
  appCore: { version: string; manifest: string };
  appCommon: { version: string; manifest: string };
  libCore: { version: string; manifest: string };
  libCommon: { version: string; manifest: string };
  sameInstances: boolean;
  libEntry: string;
  checkoutModulesLoaded: string[];
  statuses: {
    create: number;
    chunks: number[];
    mismatch: { status: number; code: string };
    complete: number;
    blob: number;
    tusOptions: { status: number; version: string | null };
  };
  uploadedSha256: string;
  downloadedSha256: string;
  recordedChecksum: string | null;
  size: number;
  downloadedSize: number;
  completedEvents: number;
}

/** Run the ESM app with plain `node` (no loaders, no flags) in the project; returns its report and output. */
export async function runSmokeApp(dir: string): Promise<{ code: number | null; output: string; result: SmokeResult | null }> {
  const env = childEnv({ VALIBLOB_CHECKOUT: CHECKOUT });
  // Nothing may steer module loading: no inherited --require/--loader, no NODE_PATH pointing at the checkout.
  delete env.NODE_OPTIONS;
  delete env.NODE_PATH;
  const { code, stdout, stderr } = await run(process.execPath, ['app.mjs'], dir, 60_000, env);
  const line = stdout.split('\n').find((entry) => entry.startsWith('NEST12_SMOKE_RESULT '));
  const result = line ? (JSON.parse(line.slice('NEST12_SMOKE_RESULT '.length)) as SmokeResult) : null;
  return { code, output: `${stdout}\n${stderr}`, result };
}
