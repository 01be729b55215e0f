// Nest 12 compatibility smoke app (DESIGN.md §1). Runs inside a throw-away project that has Nest 12 and the
// *packed* @vali-blob/nestjs installed from the registry/tarball (see test/compat/nest12-project.ts); never run
// it from /work/main, where Nest 11 sits in node_modules.
//
// How the two module systems meet here:
// - This file is ESM because Nest 12 is ESM-only (`"type": "module"`, `exports: { ".": "./index.js" }`).
// - `import ... from '@vali-blob/nestjs'` resolves through the library's `exports` map ("default" condition →
//   dist/src/index.js). The library's package.json has no `"type"`, so that file is CommonJS: Node's ESM loader
//   hands it to the CJS loader and derives the named exports statically with cjs-module-lexer (tsc's
//   `Object.defineProperty(exports, ...)` and `__exportStar(require(...))` patterns are recognised).
// - Inside the library, tsc emitted `require('@nestjs/common')` / `require('@nestjs/core')`. Those files are ESM,
//   so the CJS loader loads them with require(esm) (on by default since Node 20.19 / 22.12) and returns the
//   module namespace object. The ESM module map is shared, so the library and this app see the *same* Nest
//   instances (one ModulesContainer class, one set of DI metadata) — asserted below, because two copies would
//   break dependency injection in subtle ways.
//
// Prints one line `NEST12_SMOKE_RESULT <json>` (what the jest spec asserts) and exits non-zero on any failure.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nestCommon from '@nestjs/common';
import * as nestCore from '@nestjs/core';
import { ValiBlobModule, UploadEvents } from '@vali-blob/nestjs';

const { Module } = nestCommon;
const { NestFactory } = nestCore;

/** Version of a package as resolved *from* a given file (what that file's `require`/`import` really loads). */
function versionSeenFrom(fromFile, pkg) {
  const req = createRequire(fromFile);
  // Nest 12's exports map lists './package.json', so this resolves on every line we support.
  const manifest = req.resolve(`${pkg}/package.json`);
  return { version: JSON.parse(readFileSync(manifest, 'utf8')).version, manifest };
}

const libEntry = fileURLToPath(import.meta.resolve('@vali-blob/nestjs'));
const libRequire = createRequire(libEntry);
const libManifest = JSON.parse(readFileSync(join(dirname(libEntry), '..', '..', 'package.json'), 'utf8'));

const seen = {
  node: process.version,
  appCore: versionSeenFrom(import.meta.url, '@nestjs/core'),
  appCommon: versionSeenFrom(import.meta.url, '@nestjs/common'),
  libCore: versionSeenFrom(libEntry, '@nestjs/core'),
  libCommon: versionSeenFrom(libEntry, '@nestjs/common'),
};

// Guard against passing on Nest 11 by accident (e.g. a `file:` link resolving /work/main/node_modules).
for (const [name, entry] of Object.entries(seen)) {
  if (name === 'node') continue;
  assert.match(entry.version, /^12\./, `${name} resolved ${entry.manifest} = ${entry.version}, expected 12.x`);
}
// The library must be the packed copy extracted here, not a `file:` symlink back into the checkout (whose
// node_modules holds Nest 11): the real path has to stay inside this project's node_modules.
const libRealPath = realpathSync(libEntry);
assert.ok(libRealPath.includes(join('node_modules', '@vali-blob', 'nestjs')), `library loaded from ${libRealPath}`);

// The library is CommonJS and loads Nest through require(esm); it must get the very namespace objects this
// ESM app imported, not a second copy.
const libCommon = libRequire('@nestjs/common');
const libCore = libRequire('@nestjs/core');
const sameInstances = libCommon === nestCommon && libCore === nestCore;
assert.ok(sameInstances, 'the library and the app loaded different @nestjs/common|core instances');
// `import` and `require` of the library resolve to the same file (one "default" export condition): no dual
// package hazard, a Nest 11 CJS app and a Nest 12 ESM app get the same build.
assert.equal(libRequire.resolve('@vali-blob/nestjs'), libEntry);
// No "type": "module" in the library's manifest, so Node treats dist/src/*.js as CommonJS.
const libIsCommonJs = libManifest.type !== 'module' && libEntry.endsWith('.js');
assert.ok(libIsCommonJs, 'expected the library to be loaded as CommonJS');

class AppModule {}
// Plain JS has no decorator syntax: apply Nest's @Module() by hand, exactly what the decorator would do.
Module({
  imports: [
    ValiBlobModule.forRoot({
      providers: { mem: { type: 'memory' } },
      defaultProvider: 'mem',
      sessionStore: 'memory',
      maxUploadSize: 8 * 1024 * 1024,
      http: { rest: { path: 'uploads' }, blobs: { path: 'blobs' }, tus: { path: 'files' } },
    }),
  ],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
let result;
try {
  const events = app.get(UploadEvents);
  let completedEvents = 0;
  events.on('upload.completed', () => completedEvents++);

  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address();
  const base = `http://127.0.0.1:${port}`;

  const data = randomBytes(640 * 1024 + 123);
  const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
  const statuses = {};

  const created = await fetch(`${base}/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      totalSize: data.length,
      path: 'compat/nest12.bin',
      contentType: 'application/octet-stream',
    }),
  });
  statuses.create = created.status;
  const session = await created.json();
  assert.equal(created.status, 201, JSON.stringify(session));
  const id = session.uploadId;

  const chunkSize = 256 * 1024;
  statuses.chunks = [];
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    const res = await fetch(`${base}/uploads/${id}/chunks/${offset}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: data.subarray(offset, offset + chunkSize),
    });
    const body = await res.json();
    statuses.chunks.push(res.status);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.uploadedBytes, Math.min(offset + chunkSize, data.length));
  }

  // A wrong offset must still map to the library's typed 409 under Nest 12's exception handling.
  const mismatch = await fetch(`${base}/uploads/${id}/chunks/0`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from('x'),
  });
  const mismatchBody = await mismatch.json();
  statuses.mismatch = { status: mismatch.status, code: mismatchBody.code };

  const completed = await fetch(`${base}/uploads/${id}/complete`, { method: 'POST' });
  const completeBody = await completed.json();
  statuses.complete = completed.status;
  assert.equal(completed.status, 200, JSON.stringify(completeBody));

  const blob = await fetch(`${base}/blobs/compat/nest12.bin`);
  statuses.blob = blob.status;
  const downloaded = Buffer.from(await blob.arrayBuffer());

  // The tus controller is mounted too (OPTIONS is the discovery request every tus client starts with).
  const tusOptions = await fetch(`${base}/files`, { method: 'OPTIONS' });
  statuses.tusOptions = { status: tusOptions.status, version: tusOptions.headers.get('tus-version') };

  result = {
    ...seen,
    sameInstances,
    libEntry: libRealPath,
    statuses,
    uploadedSha256: sha256(data),
    downloadedSha256: sha256(downloaded),
    recordedChecksum: completeBody.session?.checksum ?? null,
    size: data.length,
    downloadedSize: downloaded.length,
    completedEvents,
  };
} finally {
  await app.close();
}
// Every CommonJS module loaded (the library and whatever it required) must come from this project, never
// from the checkout the tarball was built in (its node_modules holds Nest 11).
const checkout = process.env.VALIBLOB_CHECKOUT;
result.checkoutModulesLoaded = checkout
  ? Object.keys(createRequire(import.meta.url).cache).filter((file) => file.startsWith(`${checkout}/`))
  : [];
console.log(`NEST12_SMOKE_RESULT ${JSON.stringify(result)}`);
assert.deepEqual(result.checkoutModulesLoaded, [], 'modules were loaded from the checkout');
assert.equal(result.downloadedSha256, result.uploadedSha256, 'downloaded blob differs from the upload');
