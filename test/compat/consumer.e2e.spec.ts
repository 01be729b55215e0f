import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest } from '../support/http-client';
import { PG_URL, serviceAvailable } from '../support/services';
import { createScratchPostgres, ScratchPostgres } from '../typeorm/typeorm-test-db';
import {
  migratedSchema,
  queryDatabase,
  readBack,
  sha256,
  startConsumerApp,
  uploadWithTusClient,
} from './consumer-app.runner';
import {
  compile,
  CONSUMER_VARIANTS,
  installedVersion,
  prepareConsumerProject,
  runMigrations,
  TSCONFIG_MODES,
} from './consumer-project';
import { ChildResult } from './npm-client';
import { buildAndPack, cacheWarm, PackedLibrary, registryGate, ScratchProject, stopwatch } from './scratch-project';

/**
 * Issue 13: the library installs and works in the apps people have. `npm run build` → `npm pack` → for each line of
 * the matrix (Nest 11 + TypeORM 0.3, Nest 11 + TypeORM 1.x, Nest 12 + TypeORM 0.3) a throw-away project in the OS
 * temp dir with those packages from the registry (cached) and the tarball → the consumer app of
 * scripts/consumer-app, written as the docs say, compiled under the classic Nest tsconfig and under nodenext → for
 * each build: the app's own TypeORM CLI migrates a fresh PostgreSQL database, `node dist/main.js` starts, tus-js-client
 * uploads in chunks, the blob reads back byte-exact, `/health` is up, SIGTERM stops it.
 *
 * Gate (before jest collects): with any dependency cache cold, the npm registry must answer `npm ping`; otherwise
 * the suite is skipped loudly — or fails under CI=true.
 */
const decision = registryGate(
  'the consumer test',
  CONSUMER_VARIANTS.map((variant) => variant.spec),
);
const describeIfRunnable = decision.run ? describe : describe.skip;

const MiB = 1024 * 1024;
const UPLOAD_SIZE = 5 * MiB + 12_345;
const CHUNK_SIZE = MiB;

const SUITE = 'consumer app from the packed tarball (classic and nodenext tsconfig, TypeORM CLI, tus, health)';

describeIfRunnable(SUITE, () => {
  const timings: Record<string, number> = {};
  const time = stopwatch(timings);
  let library: PackedLibrary | undefined;
  let postgres = false;

  beforeAll(async () => {
    postgres = await serviceAvailable('PostgreSQL', PG_URL);
    library = await time('buildAndPackMs', buildAndPack);
  }, 180_000);

  afterAll(() => {
    library?.dispose();
    // eslint-disable-next-line no-console -- the timings are reported in the test output on purpose
    console.log(`consumer test timings (ms): ${JSON.stringify(timings)}`);
  });

  describe.each(CONSUMER_VARIANTS)('$label', (variant) => {
    let project: ScratchProject | undefined;
    /** Both tsconfig modes compile at once (separate outDirs): tsc is mostly parse and bind time on one core. */
    const compiled = new Map<string, Promise<ChildResult>>();

    beforeAll(async () => {
      const warm = cacheWarm(variant.spec);
      project = await time(`${variant.spec.name}:${warm ? 'warm' : 'cold'}InstallMs`, () =>
        prepareConsumerProject(variant, library!),
      );
      for (const mode of TSCONFIG_MODES) {
        const compiling = time(`${variant.spec.name}:${mode.outDir}:tscMs`, () => compile(project!.dir, mode));
        // Settled here so a failure to spawn is reported by the compile test, never as an unhandled rejection.
        compiled.set(
          mode.outDir,
          compiling.catch((error) => ({ code: -1, stdout: '', stderr: String(error) })),
        );
      }
    }, 600_000);

    afterAll(() => project?.dispose());

    it('installs the packed library next to the Nest and TypeORM lines under test', () => {
      expect(installedVersion(project!.dir, '@nestjs/core')).toMatch(new RegExp(`^${variant.nest}\\.`));
      expect(installedVersion(project!.dir, '@nestjs/typeorm')).toMatch(new RegExp(`^${variant.nest}\\.`));
      expect(installedVersion(project!.dir, '@nestjs/terminus')).toMatch(new RegExp(`^${variant.nest}\\.`));
      expect(installedVersion(project!.dir, 'typeorm')).toMatch(variant.typeorm === '1' ? /^1\./ : /^0\.3\./);
    });

    describe.each(TSCONFIG_MODES)('tsconfig: $label', (mode) => {
      const key = `${variant.spec.name}:${mode.outDir}`;
      let database: ScratchPostgres | undefined;
      let storageDir: string | undefined;
      let compiledOk = false;
      let migrated = false;

      afterAll(async () => {
        await database?.drop();
        if (storageDir) rmSync(storageDir, { recursive: true, force: true });
      });

      it('compiles with the project’s own tsc', async () => {
        const result = await compiled.get(mode.outDir)!;
        // tsc prints its diagnostics (TS2307 for an unresolved subpath, say) on stdout.
        const output = `${result.stdout}${result.stderr}`.trim();
        expect({ code: result.code, output }).toEqual({ code: 0, output: '' });
        compiledOk = true;
      }, 180_000);

      it('creates the tables with the app’s CLI: npx typeorm migration:run -d <outDir>/data-source.js', async () => {
        if (!compiledOk) throw new Error('not compiled (see the test above)');
        if (!postgres) throw new Error('PostgreSQL unavailable: see the SKIPPING message above');
        database = await createScratchPostgres('consumer');
        const result = await time(`${key}:migrationsMs`, () => runMigrations(project!.dir, mode, database!.url));
        const output = `${result.stdout}\n${result.stderr}`;
        expect({ code: result.code, output }).toMatchObject({ code: 0 });
        // TypeORM's CLI says what it ran; stderr may carry unrelated npm notices, so it is not required empty.
        expect(result.stdout).toMatch(/Migration CreateValiBlobTables1763600000000 has been executed successfully/);
        expect(await migratedSchema(database.url)).toEqual({
          tables: ['migrations', 'valiblob_quota_entries', 'valiblob_upload_locks', 'valiblob_upload_sessions'],
          applied: [
            'CreateValiBlobTables1763600000000',
            'AddUploadConflictPolicy1764500000000',
            'ReplaceConcatWithParts1764900000000',
            'CreateQuotaEntries1765100000000',
            'AddSessionPartition1765200000000',
          ],
        });
        migrated = true;
      }, 120_000);

      it('starts, takes a chunked tus-js-client upload, serves it byte-exact, is healthy, stops', async () => {
        if (!migrated) throw new Error('not migrated (see the test above)');
        storageDir = mkdtempSync(join(tmpdir(), 'vb-consumer-blobs-'));
        const started = Date.now();
        const env = { DATABASE_URL: database!.url, STORAGE_DIR: storageDir, OPS_TOKEN: 'ops-secret' };
        const app = await startConsumerApp(project!.dir, mode, env);
        let stopped: { code: number | null; signal: NodeJS.Signals | null } | undefined;
        try {
          // Node's 300 s default is off without a line of the app's own (the library does it at bootstrap).
          expect(app.requestTimeout).toBe(0);
          const upload = await uploadWithTusClient(project!.dir, app.url, UPLOAD_SIZE, CHUNK_SIZE);
          // Six PATCH requests: five full chunks and the rest.
          expect(upload.chunkOffsets).toEqual([1, 2, 3, 4, 5].map((n) => n * CHUNK_SIZE).concat(UPLOAD_SIZE));
          const uploadId = decodeURIComponent(new URL(upload.url).pathname.split('/').pop()!);

          const session = await httpRequest(`${app.url}/uploads/${encodeURIComponent(uploadId)}`);
          expect(session.status).toBe(200);
          expect(session.json).toMatchObject({
            uploadId,
            status: 'Complete',
            uploadedBytes: UPLOAD_SIZE,
            checksum: upload.sha256,
          });

          const back = await readBack(app.url, storageDir, session.json.path as string);
          expect(back.served.status).toBe(200);
          expect(back.servedSha256).toBe(upload.sha256);
          expect(back.onDiskSha256).toBe(upload.sha256);

          // The IETF draft on the same endpoint, from the tarball (its runtime dependencies load in this tree).
          const draft = await uploadWithTusClient(project!.dir, app.url, UPLOAD_SIZE, CHUNK_SIZE, 'ietf-draft-05');
          expect(draft.draftAnswers).toBeGreaterThan(UPLOAD_SIZE / CHUNK_SIZE);
          expect(upload.draftAnswers).toBe(0);
          const draftServed = await httpRequest(draft.url);
          expect({ status: draftServed.status, sha256: sha256(draftServed.body) }).toEqual({
            status: 200,
            sha256: draft.sha256,
          });

          // The session lives in the migrated PostgreSQL database (TypeORM store), not in memory.
          const rows = await queryDatabase<{ status: string; checksum: string; partition: string }>(
            database!.url,
            'SELECT status, checksum, partition FROM valiblob_upload_sessions WHERE upload_id = $1',
            [uploadId],
          );
          expect(rows).toEqual([{ status: 'Complete', checksum: upload.sha256, partition: 'consumer' }]);

          // The policy from the tarball: the upload's bytes count in the quota table the migrations created, and
          // the app's hook class and the built-in rules refuse with their codes.
          const quota = await queryDatabase<{ bytes: string; committed: boolean }>(
            database!.url,
            'SELECT bytes, committed FROM valiblob_quota_entries WHERE upload_id = $1',
            [uploadId],
          );
          expect(quota).toEqual([{ bytes: String(UPLOAD_SIZE), committed: true }]);
          const create = (path: string) =>
            httpRequest(`${app.url}/uploads`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ totalSize: 1, path }),
            });
          const hooked = await create('forbidden/a.bin');
          expect({ status: hooked.status, code: hooked.json?.code }).toEqual({ status: 403, code: 'FORBIDDEN_NAME' });
          const blocked = await create('tools/setup.exe');
          expect({ status: blocked.status, code: blocked.json?.code }).toEqual({
            status: 400,
            code: 'EXTENSION_NOT_ALLOWED',
          });

          // The admin API from the tarball: the app's own route on UploadAdminService, and http.admin behind the
          // app's hook — a stuck upload is listed, then purged.
          const stuck = await create('ops/stuck.bin');
          expect(stuck.status).toBe(201);
          const unfinished = await httpRequest(`${app.url}/ops/unfinished`);
          expect(unfinished.json.items.map((item: { uploadId: string }) => item.uploadId)).toEqual([
            stuck.json.uploadId,
          ]);
          expect((await httpRequest(`${app.url}/admin/uploads`)).status).toBe(401);
          const ops = { authorization: 'Bearer ops-secret', 'Content-Type': 'application/json' };
          const purge = await httpRequest(`${app.url}/admin/uploads/purge`, {
            method: 'POST',
            headers: ops,
            body: JSON.stringify({ filter: { pathPrefix: 'ops/' }, mode: 'delete' }),
          });
          expect({ status: purge.status, deleted: purge.json?.deleted }).toEqual({ status: 200, deleted: 1 });
          expect((await httpRequest(`${app.url}/ops/unfinished`)).json.items).toEqual([]);

          const health = await httpRequest(`${app.url}/health`);
          expect({ status: health.status, body: health.json }).toMatchObject({
            status: 200,
            body: {
              status: 'ok',
              info: { storage: { status: 'up' }, sessionStore: { status: 'up' }, cleanup: { status: 'up' } },
            },
          });
        } catch (error) {
          throw new Error(`${String(error)}\n--- app output ---\n${app.output()}`);
        } finally {
          stopped = await app.stop();
          timings[`${key}:appMs`] = Date.now() - started;
        }
        // Nest's shutdown hook closes the app and then re-raises the signal: a clean stop is SIGTERM or exit 0.
        expect([
          { code: 0, signal: null },
          { code: null, signal: 'SIGTERM' },
        ]).toContainEqual(stopped);
      }, 180_000);
    });
  });
});
