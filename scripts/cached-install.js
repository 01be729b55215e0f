// A dependency tree installed once into a cache folder and reused until it is too old: the scratch Nest apps of the
// consumer / Nest 12 tests (test/compat/scratch-project.ts) and the TypeORM 1.x line (scripts/typeorm-line.js).
// Plain CommonJS so the .js runner needs no TypeScript loader; types in cached-install.d.ts.
'use strict';
const { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');

/** Name of the marker file written last: a tree without it was never finished. */
const READY = '.ready';

/**
 * Whether `dir` holds a finished install younger than `maxAgeMs` (and `refresh` does not ask for a new one).
 * @param {string} dir
 * @param {{ maxAgeMs: number, refresh?: boolean }} options
 * @returns {boolean}
 */
function installWarm(dir, { maxAgeMs, refresh = false }) {
  const marker = path.join(dir, READY);
  if (refresh || !existsSync(marker)) return false;
  try {
    const { createdAt } = JSON.parse(readFileSync(marker, 'utf8'));
    return Date.now() - createdAt < maxAgeMs;
  } catch {
    return false;
  }
}

/**
 * The cached tree in `dir`, installed first when it is not warm. `install(partial)` fills a private sibling folder
 * (package.json, npm install, checks); only when it resolves is the marker written and the folder renamed into
 * place, so a half-finished or failed install never looks ready and concurrent runs never see each other's work.
 * @param {string} dir
 * @param {{
 *   maxAgeMs: number,
 *   refresh?: boolean,
 *   install: (partial: string) => Promise<unknown>,
 *   marker?: object,
 * }} options
 * @returns {Promise<{ dir: string, cached: boolean }>}
 */
async function ensureInstalled(dir, { maxAgeMs, refresh = false, install, marker = {} }) {
  if (installWarm(dir, { maxAgeMs, refresh })) return { dir, cached: true };
  mkdirSync(path.dirname(dir), { recursive: true });
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    await install(partial);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  writeFileSync(path.join(partial, READY), JSON.stringify({ ...marker, createdAt: Date.now() }));
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return { dir, cached: false };
}

module.exports = { installWarm, ensureInstalled };
