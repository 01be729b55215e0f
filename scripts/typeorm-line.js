#!/usr/bin/env node
// Runs the repository's TypeORM suites against the TypeORM 1.x line (the checkout's own node_modules carry 0.3):
//   node scripts/typeorm-line.js [jest args…]      e.g. node scripts/typeorm-line.js test/typeorm/migrations.spec.ts
// 1. installs typeorm@^1 + better-sqlite3@^12 once into a cached tree OUTSIDE the checkout
//    ($TMPDIR/valiblob-typeorm1/<key>; outside because Node resolves upwards and would otherwise find the
//    checkout's node_modules for anything the tree lacks); npm's cache makes a re-install cheap;
// 2. proves a child process loads TypeORM 1.x through the redirect hook (scripts/typeorm-line/redirect.js);
// 3. type-checks the library and the TypeORM suites against 1.x's types (a failure counts as one failed test);
// 4. runs jest with jest.typeorm1.config.js and that hook in NODE_OPTIONS (children inherit it).
// The last line printed is "N passed, N failed, N skipped" (jest's summary reporter), as .ci/run expects.
// Env: VALIBLOB_TYPEORM1_CACHE (cache root), VALIBLOB_TYPEORM1_REFRESH=1 (reinstall).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { readFileSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { ensureInstalled } = require('./cached-install');

const CHECKOUT = path.resolve(__dirname, '..');
const HOOK = path.join(__dirname, 'typeorm-line', 'redirect.js');
/** What the tree installs: the 1.x line and the only SQLite driver it has (12.x: the last major for Node 20). */
const TREE_DEPENDENCIES = { typeorm: '^1', 'better-sqlite3': '^12' };
/** Reinstall after this long so new 1.x releases get tested (the ranges above move). */
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;
const FAILED = '0 passed, 1 failed, 0 skipped';

const log = (message) => console.log(`[typeorm-line] ${message}`);

/** Cache key: the ranges and what decides the native build (Node ABI, platform). */
function cacheDir() {
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        deps: TREE_DEPENDENCIES,
        abi: process.versions.modules,
        platform: process.platform,
        arch: process.arch,
      }),
    )
    .digest('hex')
    .slice(0, 16);
  return path.join(process.env.VALIBLOB_TYPEORM1_CACHE || path.join(tmpdir(), 'valiblob-typeorm1'), key);
}

/** Run to completion with inherited or captured output; resolves with the exit code. */
function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** npm without an outer `npm run`'s lifecycle variables leaking into the scratch project. */
function npmEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_(lifecycle|package)_/i.test(key)) env[key] = value;
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

/** Whether the tree's better-sqlite3 native module loads (its install script may have been skipped). */
function driverLoads(dir) {
  const probe = "const D=require('better-sqlite3');new D(':memory:').close()";
  return spawnSync(process.execPath, ['-e', probe], { cwd: dir, stdio: 'ignore' }).status === 0;
}

/** The cached tree (installed first when cold or older than MAX_AGE_MS); returns its directory. */
function ensureTree() {
  const specs = Object.entries(TREE_DEPENDENCIES).map(([name, range]) => `${name}@${range}`);
  return ensureInstalled(cacheDir(), {
    maxAgeMs: MAX_AGE_MS,
    refresh: process.env.VALIBLOB_TYPEORM1_REFRESH === '1',
    marker: { specs },
    install: async (partial) => {
      writeFileSync(
        path.join(partial, 'package.json'),
        `${JSON.stringify({ name: 'valiblob-typeorm1-tree', private: true }, null, 2)}\n`,
      );
      // better-sqlite3 has no downloadable prebuild here: its install script falls back to node-gyp (Node headers
      // from npm's nodedir), which is expected and is most of a cold install's time.
      log(`installing ${specs.join(' ')} into ${partial}`);
      const code = await run(
        'npm',
        ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline', ...specs],
        {
          cwd: partial,
          env: npmEnv(),
        },
      );
      if (code !== 0) throw new Error(`npm install in ${partial} exited with ${code}`);
      if (!driverLoads(partial)) {
        log('better-sqlite3 native module missing; rebuilding');
        if (
          (await run('npm', ['rebuild', 'better-sqlite3'], { cwd: partial, env: npmEnv() })) !== 0 ||
          !driverLoads(partial)
        ) {
          throw new Error('better-sqlite3 does not load after npm rebuild');
        }
      }
    },
  });
}

function treeVersion(tree, name) {
  return JSON.parse(readFileSync(path.join(tree, name, 'package.json'), 'utf8')).version;
}

/** NODE_OPTIONS for everything started from here on: the redirect hook first, whatever was there after. */
function nodeOptions() {
  return [`--require "${HOOK}"`, process.env.NODE_OPTIONS || ''].join(' ').trim();
}

/**
 * A child started from the checkout (as the e2e specs start servers) must load TypeORM 1.x from the tree through
 * the hook, and the library's own detection must see 1.x: otherwise the run would test 0.3 without saying so.
 */
function assertChildSeesTypeorm1(env) {
  const probe = [
    "const { realpathSync } = require('node:fs');",
    'const tree = realpathSync(process.env.VALIBLOB_TYPEORM_TREE);',
    "const entry = require.resolve('typeorm');",
    "if (!entry.startsWith(tree)) throw new Error('typeorm resolved to ' + entry);",
    "const { installedTypeOrm } = require('./src/sessions/typeorm/sqlite-driver');",
    "const { dataSourceOptionsFromUrl } = require('./src/sessions/typeorm/database-url');",
    'const t = installedTypeOrm();',
    "if (t.major !== 1) throw new Error('TypeORM ' + t.version + ' loaded, expected 1.x');",
    "const driver = dataSourceOptionsFromUrl('sqlite::memory:').type;",
    "console.log('TypeORM ' + t.version + ' from ' + t.dir + '; sqlite: → ' + driver);",
  ].join('\n');
  const result = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', probe], {
    cwd: CHECKOUT,
    env,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`child process does not see TypeORM 1.x:\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

/** Directories type-checked against TypeORM 1.x's own types (the library and the TypeORM suites). */
const TYPECHECKED = [
  'src',
  'migrations',
  'ormconfig.ts',
  'test/typeorm',
  'test/locking',
  'test/cleanup',
  'test/multi-instance',
];

/**
 * `tsc --noEmit` of the checkout with `typeorm` mapped to the tree's 1.x types, so an API 1.x removed or retyped
 * fails here even where no test reaches it. The config is written into the tree (outside the checkout).
 */
async function typecheckAgainstTree(dir, tree) {
  const config = path.join(dir, 'tsconfig.typeorm1.json');
  const typeorm = path.join(tree, 'typeorm');
  writeFileSync(
    config,
    JSON.stringify({
      extends: path.join(CHECKOUT, 'tsconfig.json'),
      compilerOptions: {
        noEmit: true,
        typeRoots: [path.join(CHECKOUT, 'node_modules', '@types')],
        paths: { typeorm: [typeorm], 'typeorm/*': [`${typeorm}/*`] },
      },
      include: TYPECHECKED.map((entry) => path.join(CHECKOUT, entry)),
    }),
  );
  const tsc = require.resolve('typescript/bin/tsc', { paths: [CHECKOUT] });
  return (await run(process.execPath, [tsc, '-p', config], { cwd: CHECKOUT })) === 0;
}

async function main() {
  const started = Date.now();
  const { dir, cached } = await ensureTree();
  const installMs = Date.now() - started;
  const tree = path.join(dir, 'node_modules');
  const typeorm = treeVersion(tree, 'typeorm');
  if (!typeorm.startsWith('1.')) throw new Error(`the tree at ${tree} holds TypeORM ${typeorm}, not 1.x`);
  const driver = treeVersion(tree, 'better-sqlite3');
  const how = cached ? 'cached' : 'installed';
  log(`tree ${how} in ${installMs} ms: typeorm ${typeorm}, better-sqlite3 ${driver} (${tree})`);

  const env = { ...process.env, VALIBLOB_TYPEORM_TREE: tree, NODE_OPTIONS: nodeOptions() };
  log(`child check: ${assertChildSeesTypeorm1(env)}`);

  const typecheckStarted = Date.now();
  const typed = await typecheckAgainstTree(dir, tree);
  log(
    `type-check against TypeORM ${typeorm} types ${typed ? 'passed' : 'FAILED'} (${Date.now() - typecheckStarted} ms)`,
  );

  const jestStarted = Date.now();
  const jestBin = require.resolve('jest/bin/jest', { paths: [CHECKOUT] });
  const code = await new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [jestBin, '-c', 'jest.typeorm1.config.js', '--runInBand', ...process.argv.slice(2)],
      {
        cwd: CHECKOUT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // The tail of stdout, where the summary reporter's closing line is.
    let tail = '';
    const relay = (stream, out) =>
      stream.on('data', (chunk) => {
        out.write(chunk);
        if (out === process.stdout) tail = (tail + chunk.toString()).slice(-4096);
      });
    relay(child.stdout, process.stdout);
    relay(child.stderr, process.stderr);
    child.once('error', reject);
    child.once('close', (status) => {
      const treeNote = cached ? 'cached' : `installed in ${installMs} ms`;
      log(`jest on TypeORM ${typeorm} took ${Date.now() - jestStarted} ms (tree ${treeNote})`);
      const summaries = tail.match(/^(\d+) passed, (\d+) failed, (\d+) skipped$/gm);
      if (!summaries) {
        console.log(FAILED);
        return resolve(1);
      }
      // A failed type-check counts as one more failure in the closing line.
      const [, passed, failed, skipped] = /^(\d+) passed, (\d+) failed, (\d+) skipped$/.exec(
        summaries[summaries.length - 1],
      );
      console.log(`${passed} passed, ${Number(failed) + (typed ? 0 : 1)} failed, ${skipped} skipped`);
      resolve(typed ? (status ?? 1) : 1);
    });
  });
  process.exit(code);
}

main().catch((error) => {
  console.error(`[typeorm-line] ${error.stack || error}`);
  console.log(FAILED);
  process.exit(1);
});
