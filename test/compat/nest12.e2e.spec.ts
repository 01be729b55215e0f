import { join } from 'node:path';
import {
  NEST12_SMOKE,
  prepareSmokeProject,
  requireEsmSupported,
  runSmokeApp,
  SmokeProject,
  SmokeResult,
} from './nest12-project';
import { RegistryUnreachableError } from './npm-client';
import { registryGate } from './scratch-project';

/**
 * DESIGN.md §1: the CommonJS build of @vali-blob/nestjs works inside a Nest 12 (ESM-only) application.
 *
 * `npm run build` → `npm pack` → a throw-away project (OS temp dir) with @nestjs/common|core|platform-express
 * 12.x from the npm registry and the tarball installed → `node app.mjs` (scripts/nest12-smoke/app.mjs): a
 * Nest 12 app importing ValiBlobModule, memory storage + memory sessions, a REST upload over a real socket.
 *
 * Gate, decided before the suite is declared: this Node must support require(esm) and, when the dependency
 * cache is cold, the npm registry must answer `npm ping`. Otherwise the suite is skipped loudly — or fails
 * under CI=true, where both are required.
 */
function gate(): { run: boolean } {
  const what = 'the Nest 12 smoke test';
  if (!requireEsmSupported()) {
    const reason = `Node ${process.version} cannot require() ES modules (Nest 12 needs Node >= 20.19 / 22.12)`;
    if (process.env.CI === 'true') throw new Error(`${what} cannot run: ${reason} (CI=true: required)`);
    // eslint-disable-next-line no-console -- a skipped suite must be loud in the test output
    console.warn(`\n!!! SKIPPING ${what}: ${reason}.\n`);
    return { run: false };
  }
  return registryGate(what, [NEST12_SMOKE]);
}

const decision = gate();
const describeIfRunnable = decision.run ? describe : describe.skip;

describeIfRunnable('Nest 12 compatibility smoke test (packed CJS build inside an ESM Nest 12 app)', () => {
  let project: SmokeProject | undefined;
  let result: SmokeResult;

  beforeAll(async () => {
    try {
      project = await prepareSmokeProject();
    } catch (error) {
      // `npm ping` answered but the install still could not reach the registry (flaky network): say so plainly.
      if (error instanceof RegistryUnreachableError) {
        throw new Error(`npm registry unreachable during install:\n${error.message}`);
      }
      throw error;
    }
    const run = await runSmokeApp(project.dir);
    // eslint-disable-next-line no-console -- the versions and timings are reported in the test output on purpose
    console.log(
      `Nest 12 smoke: core ${run.result?.libCore.version ?? '?'} on Node ${process.version}; ` +
        `${project.fromCache ? 'cached' : 'fresh'} deps; timings ${JSON.stringify(project.timings)}`,
    );
    if (run.code !== 0 || !run.result) throw new Error(`the Nest 12 app failed (exit ${run.code}):\n${run.output}`);
    result = run.result;
  }, 300_000);

  afterAll(() => project?.dispose());

  it('loads Nest 12 — the same instance — from both the ESM app and the CommonJS library', () => {
    // What the library's own require() resolved, not just what the app imported: 12.x on both sides.
    for (const seen of [result.appCore, result.appCommon, result.libCore, result.libCommon]) {
      expect(seen.version).toMatch(/^12\.\d+\.\d+/);
      expect(seen.manifest.startsWith(join(project!.dir, 'node_modules'))).toBe(true);
    }
    expect(result.sameInstances).toBe(true);
    // The packed copy, extracted into the project — not a link back into the checkout.
    expect(result.libEntry).toBe(join(project!.dir, 'node_modules', '@vali-blob', 'nestjs', 'dist', 'src', 'index.js'));
    expect(result.checkoutModulesLoaded).toEqual([]);
  });

  it('runs the REST upload over a real socket: create, chunks, complete, read back with an equal sha256', () => {
    expect(result.statuses.create).toBe(201);
    expect(result.statuses.chunks).toEqual([200, 200, 200]);
    // Typed errors still map to their status and stable code under Nest 12.
    expect(result.statuses.mismatch).toEqual({ status: 409, code: 'OFFSET_MISMATCH' });
    expect(result.statuses.complete).toBe(200);
    expect(result.statuses.blob).toBe(200);
    expect(result.downloadedSize).toBe(result.size);
    expect(result.downloadedSha256).toBe(result.uploadedSha256);
    expect(result.recordedChecksum).toBe(result.uploadedSha256);
    expect(result.completedEvents).toBe(1);
  });

  it('mounts the tus endpoint too', () => {
    expect(result.statuses.tusOptions).toEqual({ status: 204, version: '1.0.0' });
  });
});
