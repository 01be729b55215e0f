// The TypeORM suites against TypeORM 1.x + better-sqlite3 from a second dependency tree (see scripts/typeorm-line.js,
// which installs the tree and runs jest with this config). Same transform and reporters as jest.config.js.
const base = require('./jest.config');

/**
 * Suites that touch TypeORM, the SQL locks or the embedded SQLite default
 * (kept in step with `grep -l typeorm test`).
 */
const SUITES = [
  'test/typeorm/**/*.spec.ts',
  'test/cleanup/stale-upload-cleanup.typeorm.spec.ts',
  'test/cleanup/cleanup-locks.spec.ts',
  'test/cleanup/two-instances.spec.ts',
  'test/locking/**/*.spec.ts',
  'test/multi-instance/**/*.spec.ts',
  'test/ownership/conflict.spec.ts',
  'test/storage/local-fencing.e2e.spec.ts',
  'test/server/server.e2e.spec.ts',
  'test/tus/tus-rolling-restart.e2e.spec.ts',
];

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test'],
  testMatch: SUITES.map((glob) => `<rootDir>/${glob}`),
  resolver: '<rootDir>/scripts/typeorm-line/jest-resolver.js',
  // Fails every suite unless the TypeORM that loads is really 1.x from the tree.
  setupFiles: ['<rootDir>/scripts/typeorm-line/assert-typeorm1.js'],
};
