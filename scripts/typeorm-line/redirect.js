// TypeORM-line redirect: makes this checkout load TypeORM (and better-sqlite3) from a second dependency tree, so the
// repository's TypeORM suites run against TypeORM 1.x while everything else (@nestjs/*, pg, reflect-metadata …) stays
// the checkout's single copy. Used two ways, with the same rules:
//   - as a preload hook: `node -r scripts/typeorm-line/redirect.js …` (the runner puts it in NODE_OPTIONS, so every
//     child process — `node -r @swc-node/register src/server/main.ts`, `npm run migration:run` → the typeorm CLI —
//     inherits it); it patches Module._resolveFilename;
//   - from scripts/typeorm-line/jest-resolver.js, for the modules jest loads itself.
// Inactive unless VALIBLOB_TYPEORM_TREE names the tree's node_modules directory (see scripts/typeorm-line.js).
//
// Rules (NODE_PATH cannot do this: a closer node_modules always wins over it):
//   1. anything that resolves INTO the checkout's copy of a redirected package (`typeorm`, `typeorm/…`, the
//      `typeorm-ts-node-commonjs` bin, `better-sqlite3`) is swapped for the same file in the tree; if the tree lacks
//      that file, resolution throws — the checkout's TypeORM can never load silently;
//   2. a redirected package the checkout lacks (better-sqlite3 before it is a devDependency) resolves from the tree;
//   3. a module inside the tree that asks for something the tree lacks (TypeORM's `pg`, the CLI's `ts-node`)
//      resolves from the checkout, as it would if the tree were hoisted into it.
'use strict';
const Module = require('node:module');
const { existsSync, realpathSync } = require('node:fs');
const path = require('node:path');

/** Packages taken from the tree instead of the checkout. */
const REDIRECTED = ['typeorm', 'better-sqlite3'];
const CHECKOUT = path.resolve(__dirname, '..', '..');
const TREE = process.env.VALIBLOB_TYPEORM_TREE ? realpathSync(process.env.VALIBLOB_TYPEORM_TREE) : null;

function real(dir) {
  try {
    return realpathSync(dir);
  } catch {
    return null;
  }
}

const within = (file, dir) => dir !== null && (file === dir || file.startsWith(dir + path.sep));
/** Real directories of the checkout's own copies (null when it has none). */
const checkoutCopies = REDIRECTED.map((name) => ({ name, dir: real(path.join(CHECKOUT, 'node_modules', name)) }));
const checkoutModules = real(path.join(CHECKOUT, 'node_modules'));
const checkoutRoot = real(CHECKOUT);

/** Whether `request` names a redirected package or a file in it (`typeorm`, `typeorm/…`). */
function isRedirectedRequest(request) {
  return REDIRECTED.some((name) => request === name || request.startsWith(`${name}/`));
}

/** Whether a lookup starting at `dir` belongs to the tree (rule 3) / to the checkout (rule 2). */
function inTree(dir) {
  return TREE !== null && within(real(dir) ?? dir, path.dirname(TREE));
}
function inCheckout(dir) {
  const at = real(dir) ?? dir;
  return !inTree(dir) && (within(at, checkoutRoot) || within(at, checkoutModules));
}

/** Rule 1: a resolved file in the checkout's copy → the tree's copy of the same file. */
function toTree(resolved) {
  if (TREE === null || typeof resolved !== 'string' || !path.isAbsolute(resolved)) return resolved;
  for (const { name, dir } of checkoutCopies) {
    if (!within(resolved, dir)) continue;
    const swapped = path.join(TREE, name, path.relative(dir, resolved));
    if (!existsSync(swapped)) {
      throw new Error(
        `typeorm-line redirect: ${resolved} has no counterpart in ${TREE} (refusing to load the checkout's ${name})`,
      );
    }
    return swapped;
  }
  return resolved;
}

/** Node's resolver with the three rules. */
function install() {
  if (TREE === null || Module._resolveFilename.valiblobTypeormLine) return;
  const original = Module._resolveFilename;
  const patched = function resolveFilename(request, parent, isMain, options) {
    const bases =
      options && Array.isArray(options.paths)
        ? options.paths
        : [parent && parent.filename ? path.dirname(parent.filename) : process.cwd()];
    try {
      return toTree(original.call(this, request, parent, isMain, options));
    } catch (error) {
      if (error && error.code === 'MODULE_NOT_FOUND') {
        if (bases.some(inTree)) return toTree(original.call(this, request, parent, isMain, { paths: [CHECKOUT] }));
        if (isRedirectedRequest(request) && bases.some(inCheckout))
          return original.call(this, request, parent, isMain, { paths: [path.dirname(TREE)] });
      }
      throw error;
    }
  };
  patched.valiblobTypeormLine = true;
  Module._resolveFilename = patched;
}

install();

module.exports = { TREE, CHECKOUT, toTree, inTree, inCheckout, isRedirectedRequest };
