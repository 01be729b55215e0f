import { Socket } from 'node:net';

/** Connection URLs of the real services the suites use (override with the env vars). */
export const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// Not REDIS_URL: that variable switches the runnable server to Redis sessions.
export const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

/** Whether a TCP port answers. */
export function portOpen(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port), hostname, () => done(true));
  });
}

/**
 * Decide whether a suite that needs a service runs. Unreachable: under CI=true that is a failure (thrown),
 * elsewhere the suite is skipped with a loud message.
 */
export async function serviceAvailable(name: 'PostgreSQL' | 'Redis', url: string): Promise<boolean> {
  if (await portOpen(url)) return true;
  const message = `${name} is not reachable at ${url.replace(/\/\/[^@/]*@/, '//***@')}`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: services are required)`);
  // eslint-disable-next-line no-console -- a skipped suite must be loud in the test output
  console.warn(`\n!!! SKIPPING: ${message}. Start it (see DESIGN.md §8) to run these tests.\n`);
  return false;
}
