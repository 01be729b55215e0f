import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { childEnv, run } from './npm-client';
import {
  buildAndPack,
  CHECKOUT,
  prepareScratchProject,
  ScratchProject,
  ScratchSpec,
  stopwatch,
} from './scratch-project';

/** The ESM Nest 12 app the smoke test runs (fixture, copied into the throw-away project). */
export const SMOKE_APP = join(CHECKOUT, 'scripts', 'nest12-smoke', 'app.mjs');

/**
 * What the throw-away project installs from the registry besides the packed library. Ranges, not pins: the
 * point is to catch the Nest 12 line moving under us (the cache expires so new 12.x releases get in).
 */
export const NEST12_SMOKE: ScratchSpec = {
  name: 'nest12-smoke',
  dependencies: {
    '@nestjs/common': '^12.0.0',
    '@nestjs/core': '^12.0.0',
    '@nestjs/platform-express': '^12.0.0',
    'reflect-metadata': '^0.2.0',
    rxjs: '^7.8.0',
  },
};

/** Whether this Node loads ES modules through `require()` (on by default from 20.19 / 22.12). */
export function requireEsmSupported(): boolean {
  return (process.features as { require_module?: boolean }).require_module === true;
}

/** A throw-away project with Nest 12 from the registry and the freshly packed library installed from its tarball. */
export type SmokeProject = ScratchProject;

/** Build, pack and install into a scratch project (see scratch-project.ts), then add the smoke app. */
export async function prepareSmokeProject(): Promise<SmokeProject> {
  const timings: Record<string, number> = {};
  const library = await stopwatch(timings)('buildAndPackMs', buildAndPack);
  try {
    const project = await prepareScratchProject(NEST12_SMOKE, library);
    cpSync(SMOKE_APP, join(project.dir, 'app.mjs'));
    Object.assign(project.timings, timings);
    return project;
  } finally {
    library.dispose();
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
export async function runSmokeApp(
  dir: string,
): Promise<{ code: number | null; output: string; result: SmokeResult | null }> {
  // childEnv drops NODE_OPTIONS / NODE_PATH: nothing may steer module loading.
  const env = childEnv({ VALIBLOB_CHECKOUT: CHECKOUT });
  const { code, stdout, stderr } = await run(process.execPath, ['app.mjs'], dir, 60_000, env);
  const line = stdout.split('\n').find((entry) => entry.startsWith('NEST12_SMOKE_RESULT '));
  const result = line ? (JSON.parse(line.slice('NEST12_SMOKE_RESULT '.length)) as SmokeResult) : null;
  return { code, output: `${stdout}\n${stderr}`, result };
}
