import { spawnSync } from 'node:child_process';
import { PG_URL } from '../support/services';

/**
 * Whether PostgreSQL answers, decided synchronously when the spec file loads so whole `describe` blocks can be
 * skipped (jest registers tests synchronously). Unreachable: under CI=true the file fails; otherwise it is
 * skipped with a loud message — the same policy as `serviceAvailable`.
 */
export function postgresReachable(): boolean {
  const { hostname, port } = new URL(PG_URL);
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const s=require('net').connect(${Number(port) || 5432},${JSON.stringify(hostname)});` +
        `s.setTimeout(1000,()=>process.exit(1));` +
        `s.on('connect',()=>process.exit(0));` +
        `s.on('error',()=>process.exit(1));`,
    ],
    { timeout: 5000 },
  );
  if (probe.status === 0) return true;
  const message = `PostgreSQL is not reachable at ${PG_URL.replace(/\/\/[^@/]*@/, '//***@')}`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: services are required)`);
  // eslint-disable-next-line no-console -- a skipped suite must be loud in the test output
  console.warn(`\n!!! SKIPPING PostgreSQL suites: ${message}. Start it (see DESIGN.md §8) to run them.\n`);
  return false;
}

/** `describe` when PostgreSQL is reachable, otherwise a loudly reported skip. */
export const describePostgres: jest.Describe = postgresReachable() ? describe : describe.skip;
