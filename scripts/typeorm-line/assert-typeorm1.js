// Jest setup file of jest.typeorm1.config.js: every suite fails unless `typeorm` resolves to a 1.x TypeORM inside
// the tree of VALIBLOB_TYPEORM_TREE (and better-sqlite3 from there too), so that run can never test 0.3 silently.
'use strict';
const { readFileSync, realpathSync } = require('node:fs');
const path = require('node:path');

const tree = realpathSync(process.env.VALIBLOB_TYPEORM_TREE);
for (const name of ['typeorm', 'better-sqlite3']) {
  const entry = require.resolve(name);
  if (!entry.startsWith(tree + path.sep))
    throw new Error(`${name} resolved to ${entry}, outside the TypeORM 1.x tree ${tree}`);
}
const { version } = JSON.parse(readFileSync(path.join(tree, 'typeorm', 'package.json'), 'utf8'));
if (!version.startsWith('1.')) throw new Error(`expected TypeORM 1.x in ${tree}, found ${version}`);
