import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitForListeningPort } from './child-port';

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
/** Azurite's well-known development key (public, documented by Microsoft; not a secret). */
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** A running Azurite blob service (child process). */
export interface AzuriteHandle {
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  url: string;
  port: number;
  accountName: string;
  accountKey: string;
  /** Connection string for `BlobServiceClient.fromConnectionString`. */
  connectionString: string;
  child: ChildProcess;
  /** Terminate the process and wait for it to exit. */
  stop(): Promise<void>;
}

const AZURITE_BLOB_MAIN = join(__dirname, '..', '..', 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js');

/**
 * Start the Azurite blob service from npm as a child process: loopback, a free port, in-memory persistence, no
 * telemetry, any API version. Reused by the provider specs and by benchmarks.
 */
export async function startAzurite(timeoutMs = 30_000): Promise<AzuriteHandle> {
  const child = spawn(
    process.execPath,
    [
      AZURITE_BLOB_MAIN,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--loose',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const { port } = await waitForListeningPort(child, /listens on http:\/\/127\.0\.0\.1:(\d+)/, 'Azurite', timeoutMs);
  // Keep draining output so a chatty child never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  const url = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  return {
    url,
    port,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=${url};`,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
