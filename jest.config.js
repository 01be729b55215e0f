/** @type {import('jest').Config} */
const swcrc = JSON.parse(require('fs').readFileSync(`${__dirname}/.swcrc`, 'utf8'));
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/src'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60000,
  // Suites share real services (PostgreSQL, Redis, ports); run them one at a time (npm test uses --runInBand).
  maxWorkers: 1,
  reporters: ['default', ['<rootDir>/test/support/summary-reporter.js', {}]],
};
