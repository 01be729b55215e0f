import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, ServerProcess } from '../support/server-process';
import { PG_URL, REDIS_URL, serviceAvailable } from '../support/services';
import { startSwitchableProxy, SwitchableProxy } from './switchable-proxy';

const HEALTH_TIMEOUT_MS = 1000;

async function health(url: string) {
  const started = Date.now();
  const response = await fetch(`${url}/health`);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text, ms: Date.now() - started };
}

async function statusWithin(url: string, want: number, ms: number) {
  const deadline = Date.now() + ms;
  let last = await health(url);
  while (last.status !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    last = await health(url);
  }
  return last;
}

/**
 * The real server (`npm start`) with its session backend behind a proxy that the test closes (a stopped
 * service: closed port) and reopens: /health goes 503 within the probe timeout and back to 200.
 */
function describeBackendOutage(
  label: 'Redis' | 'PostgreSQL',
  serviceUrl: string,
  env: (proxyUrl: string) => Record<string, string>,
) {
  describe(`/health of the real server with ${label} sessions`, () => {
    let ok = false;
    let proxy: SwitchableProxy;
    let server: ServerProcess | undefined;
    let storageDir: string;

    beforeAll(async () => {
      ok = await serviceAvailable(label, serviceUrl);
      if (!ok) return;
      const target = new URL(serviceUrl);
      proxy = await startSwitchableProxy(target.hostname, Number(target.port));
      storageDir = await mkdtemp(join(tmpdir(), 'vb-server-health-'));
      const proxied = new URL(serviceUrl);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      server = await startServer({
        ...env(proxied.toString()),
        STORAGE_DIR: storageDir,
        HEALTH_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS),
      });
    }, 90_000);

    afterAll(async () => {
      await server?.stop();
      await proxy?.close();
      if (storageDir) await rm(storageDir, { recursive: true, force: true });
    });

    it('200 → 503 within the timeout when the backend goes away → 200 when it is back', async () => {
      if (!ok) return;
      const url = server!.url;
      if (/not wired yet/.test(server!.output())) {
        // eslint-disable-next-line no-console -- a skipped check must be loud in the test output
        console.warn(
          `\n!!! ${label} sessions are not wired into the server yet; its /health cannot reflect ${label}.\n`,
        );
        return;
      }
      expect((await statusWithin(url, 200, 10_000)).status).toBe(200);
      await proxy.down();
      const down = await health(url);
      expect(down.status).toBe(503);
      expect(down.body.details.sessionStore.status).toBe('down');
      expect(down.body.details.storage.status).toBe('up');
      expect(down.ms).toBeLessThan(HEALTH_TIMEOUT_MS + 1500);
      expect(down.text).not.toMatch(/postgres:\/\/|redis:\/\//);
      await proxy.up();
      const back = await statusWithin(url, 200, 15_000);
      expect(back.status).toBe(200);
    });
  });
}

describeBackendOutage('Redis', REDIS_URL, (url) => ({ REDIS_URL: url }));
describeBackendOutage('PostgreSQL', PG_URL, (url) => ({ DATABASE_URL: url }));
