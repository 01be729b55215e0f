import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { waitForListeningPort } from '../support/child-port';
import { httpRequest, TestResponse } from '../support/http-client';
import { childEnv, run } from './npm-client';
import { TsconfigMode } from './consumer-project';

/** The compiled consumer app running as `node <outDir>/main.js` in its project. */
export interface RunningConsumerApp {
  url: string;
  /** The HTTP server's `requestTimeout` after bootstrap, as the app logged it. */
  requestTimeout: number;
  output(): string;
  /** SIGTERM (graceful, the app enables shutdown hooks); resolves with the exit code and signal. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start the compiled app on a free port (PORT=0; the port is read from its log line). */
export async function startConsumerApp(
  dir: string,
  mode: TsconfigMode,
  env: { DATABASE_URL: string; STORAGE_DIR: string },
): Promise<RunningConsumerApp> {
  const child = spawn(process.execPath, [join(mode.outDir, 'main.js')], {
    cwd: dir,
    env: childEnv({ ...env, PORT: '0' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const listening = /consumer app listening on port (\d+) \(requestTimeout (\d+)\)/;
  const { port, output } = await waitForListeningPort(child, listening, 'consumer app', 60_000);
  return {
    url: `http://127.0.0.1:${port}`,
    requestTimeout: Number(listening.exec(output())![2]),
    output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** What the Node tus client (scripts/consumer-app/client/tus-upload.cjs) reports. */
export interface TusUploadResult {
  url: string;
  size: number;
  /** Offset accepted after each PATCH: one entry per chunk. */
  chunkOffsets: number[];
  /** Answers that carried `Upload-Draft-Interop-Version` (the server spoke the IETF draft). */
  draftAnswers: number;
  sha256: string;
}

/**
 * Upload `size` random bytes through the app's tus endpoint with the project's own tus-js-client (`protocol`:
 * tus-js-client's `protocol` option, e.g. `ietf-draft-05` for the IETF draft on the same endpoint).
 */
export async function uploadWithTusClient(
  dir: string,
  appUrl: string,
  size: number,
  chunkSize: number,
  protocol?: string,
): Promise<TusUploadResult> {
  const payload = randomBytes(size);
  const file = join(dir, 'payload.bin');
  writeFileSync(file, payload);
  const args = [join('client', 'tus-upload.cjs'), `${appUrl}/files`, file, String(chunkSize)];
  if (protocol) args.push(protocol);
  const { code, stdout, stderr } = await run(process.execPath, args, dir, 60_000);
  const line = stdout.split('\n').find((entry) => entry.startsWith('TUS_UPLOAD_RESULT '));
  if (code !== 0 || !line) throw new Error(`the tus client failed (exit ${code}):\n${stdout}\n${stderr}`);
  const result = JSON.parse(line.slice('TUS_UPLOAD_RESULT '.length)) as Omit<TusUploadResult, 'sha256'>;
  return { ...result, sha256: sha256(payload) };
}

/** Hex sha256 of some bytes. */
export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The stored blob as the app serves it (`GET /blobs/<path>`) and as it lies in the local disk root. */
export async function readBack(
  appUrl: string,
  storageDir: string,
  path: string,
): Promise<{ served: TestResponse; servedSha256: string; onDiskSha256: string }> {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  const served = await httpRequest(`${appUrl}/blobs/${encoded}`);
  return {
    served,
    servedSha256: sha256(served.body),
    onDiskSha256: sha256(readFileSync(join(storageDir, ...path.split('/')))),
  };
}

/** Run one query on a database (the scratch one), closing the connection after. */
export async function queryDatabase<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The tables of the public schema and the migrations TypeORM recorded as applied (default table `migrations`). */
export async function migratedSchema(url: string): Promise<{ tables: string[]; applied: string[] }> {
  const tables = await queryDatabase<{ table_name: string }>(
    url,
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  const hasMigrations = tables.some((row) => row.table_name === 'migrations');
  const applied = hasMigrations
    ? await queryDatabase<{ name: string }>(url, 'SELECT name FROM migrations ORDER BY id')
    : [];
  return { tables: tables.map((row) => row.table_name), applied: applied.map((row) => row.name) };
}
