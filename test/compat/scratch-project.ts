import { createHash } from 'node:crypto';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureInstalled, installWarm } from '../../scripts/cached-install';
import { npm, registryReachable, run } from './npm-client';

/** The checkout whose build is packed (this repository). */
export const CHECKOUT = join(__dirname, '..', '..');

/** How long an installed dependency tree is reused before it is installed afresh (new minor releases get in). */
const CACHE_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/**
 * The caches live under the OS temp dir, NOT under the checkout: Node (and tsc) resolve bare specifiers by walking
 * up the directories, so a project under /work/main/.tmp would fall back to /work/main/node_modules (Nest 11,
 * TypeORM 0.3, @nestjs/schedule …) for anything it lacks — exactly the mix-up these tests exist to rule out.
 */
const CACHE_ROOT = process.env.VALIBLOB_SCRATCH_CACHE ?? join(tmpdir(), 'vali-blob-scratch');
/** `VALIBLOB_SCRATCH_REFRESH=1` installs every tree afresh. */
const REFRESH = process.env.VALIBLOB_SCRATCH_REFRESH === '1';

/** What a scratch project installs from the registry, besides the packed library and its own dependencies. */
export interface ScratchSpec {
  /** Short name: the cache folder and the temp dirs are named after it. */
  name: string;
  /** Registry dependencies (ranges, not pins: the point is to catch the lines moving under us). */
  dependencies: Readonly<Record<string, string>>;
}

/** Cache key: everything that decides the installed tree except the library build itself. */
function cacheKey(spec: ScratchSpec): string {
  const manifest = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  const input = JSON.stringify({
    dependencies: spec.dependencies,
    libraryDependencies: manifest.dependencies ?? {},
    // The peers decide whether npm accepts the tarball next to these dependencies.
    libraryPeers: manifest.peerDependencies ?? {},
    node: process.versions.node.split('.')[0],
  });
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

/** Directory of the cached dependency tree of `spec` (may not exist yet). */
export function cachedProjectDir(spec: ScratchSpec): string {
  return join(CACHE_ROOT, `${spec.name}-${cacheKey(spec)}`);
}

/** Whether a usable cached dependency tree exists for `spec` (installed, complete, not too old). */
export function cacheWarm(spec: ScratchSpec): boolean {
  return installWarm(cachedProjectDir(spec), { maxAgeMs: CACHE_MAX_AGE_MS, refresh: REFRESH });
}

/** The packed library: the tarball and the files npm put in it. */
export interface PackedLibrary {
  tarball: string;
  files: string[];
  dispose(): void;
}

/** `npm run build` then `npm pack` of the checkout. */
export async function buildAndPack(): Promise<PackedLibrary> {
  await npm(['run', 'build'], CHECKOUT, 120_000);
  const destination = await mkdtemp(join(tmpdir(), 'vb-pack-'));
  const packed = await npm(['pack', '--json', '--pack-destination', destination], CHECKOUT, 60_000);
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  return {
    tarball: join(destination, info.filename),
    files: info.files.map((file) => file.path),
    dispose: () => rmSync(destination, { recursive: true, force: true }),
  };
}

/**
 * Install the registry dependencies (and the library's own runtime dependencies) once into the cache, atomically:
 * a half-finished install never looks ready. `--prefer-offline` takes what npm's own cache already holds.
 */
async function ensureCachedProject(spec: ScratchSpec): Promise<string> {
  const manifest = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  // The library's own dependencies go in here too, so installing the tarball later needs no registry.
  const specs = Object.entries({ ...spec.dependencies, ...(manifest.dependencies ?? {}) }).map(
    ([name, range]) => `${name}@${range}`,
  );
  const { dir } = await ensureInstalled(cachedProjectDir(spec), {
    maxAgeMs: CACHE_MAX_AGE_MS,
    refresh: REFRESH,
    marker: { specs },
    install: async (partial) => {
      const project = { name: `vali-blob-${spec.name}`, version: '0.0.0', private: true };
      writeFileSync(join(partial, 'package.json'), `${JSON.stringify(project, null, 2)}\n`);
      const install = ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline'];
      await npm([...install, ...specs], partial, 300_000);
    },
  });
  return dir;
}

/** A throw-away project: registry dependencies from the cache plus the freshly packed library. */
export interface ScratchProject {
  dir: string;
  /** Whether the registry dependencies came from the cache. */
  fromCache: boolean;
  timings: Record<string, number>;
  dispose(): void;
}

/** Collects how long each named step took (reported by the specs: cold vs warm cache). */
export function stopwatch(timings: Record<string, number>) {
  return async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      timings[label] = Date.now() - started;
    }
  };
}

/**
 * A private copy of the cached tree (so concurrent runs and the cache stay clean), then `npm install <tarball>`
 * into it, then a byte-for-byte check that what got installed is this build. A failing install (an unmet peer,
 * say) throws with npm's own message.
 */
export async function prepareScratchProject(spec: ScratchSpec, library: PackedLibrary): Promise<ScratchProject> {
  const timings: Record<string, number> = {};
  const time = stopwatch(timings);
  const fromCache = cacheWarm(spec);
  const cached = await time('registryInstallMs', () => ensureCachedProject(spec));
  const dir = await mkdtemp(join(tmpdir(), `vb-${spec.name}-`));
  try {
    await time('copyMs', () => copyTree(cached, dir));
    cpSync(library.tarball, join(dir, 'vali-blob-nestjs.tgz'));
    // --no-save: the tarball changes on every build, so it must not become a locked dependency of the cache.
    // --offline first: everything the tarball needs is already in the tree and npm's cache, so a warm run works
    // without the registry; only if npm still wants something does it go online (bounded retries).
    const install = ['install', '--no-audit', '--no-fund', '--loglevel=error', '--no-save'];
    await time('libraryInstallMs', async () => {
      try {
        await npm([...install, '--offline', './vali-blob-nestjs.tgz'], dir, 120_000);
      } catch (error) {
        // An unmet peer is not a cache miss: going online would only repeat it.
        if (/ERESOLVE/.test(String(error))) throw error;
        const online = ['--prefer-offline', '--fetch-retries=1', '--fetch-timeout=30000'];
        await npm([...install, ...online, './vali-blob-nestjs.tgz'], dir, 120_000);
      }
    });
    await assertInstalledMatchesBuild(dir, library.files);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, fromCache, timings, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Copy a dependency tree: `cp -a` (about 2.5× faster than fs.cpSync on ~10,000 small files), fs.cpSync where there
 * is no `cp`. Real copies, never hard links: npm rewrites some files in place, which would change the cache.
 */
async function copyTree(from: string, to: string): Promise<void> {
  const copied = await run('cp', ['-a', `${from}/.`, to], tmpdir(), 120_000).catch(() => undefined);
  if (copied?.code === 0) return;
  cpSync(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
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

/**
 * Gate a suite before jest collects it: run when every cache is warm or the registry answers; otherwise skip
 * loudly — or throw under CI=true, where the registry (or a warm cache) is required.
 */
export function registryGate(what: string, specs: ScratchSpec[]): { run: true } | { run: false; reason: string } {
  if (specs.every(cacheWarm)) return { run: true };
  const ping = registryReachable();
  if (ping.ok) return { run: true };
  const reason = `the npm registry is unreachable (npm ping: ${ping.detail})`;
  if (process.env.CI === 'true') throw new Error(`${what} cannot run: ${reason} (CI=true: required)`);
  // eslint-disable-next-line no-console -- a skipped suite must be loud in the test output
  console.warn(`\n!!! SKIPPING ${what}: ${reason}.\n`);
  return { run: false, reason };
}
