import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest } from '../support/http-client';
import { ServerProcess, startServer } from '../support/server-process';

const AUTH = { Authorization: 'Bearer tok' };

/** Every stdout line as a JSON record (throws, naming the line, on one that is not JSON). */
function records(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`stdout line is not JSON: ${line}`);
      }
    });
}

/** Wait (bounded) until `found` holds for the server's stdout so far. */
async function waitForLog(server: ServerProcess, found: (stdout: string) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!found(server.stdout()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** The runnable server with LOG_FORMAT=json: one JSON object per stdout line, upload lines with their fields. */
describe('runnable server with LOG_FORMAT=json', () => {
  let dataDir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vb-jsonlog-'));
    server = await startServer({
      STORAGE_DIR: join(dataDir, 'blobs'),
      DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
      AUTH_TOKENS: 'alice:tok',
      LOG_FORMAT: 'json',
    });
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a client mistake and a storage failure: JSON lines with uploadId and ownerId, no token, all JSON', async () => {
    const created = await httpRequest(`${server.url}/uploads`, {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({ totalSize: 10 }),
    });
    expect(created.status).toBe(201);
    const id = created.json.uploadId as string;
    const put = (offset: number, body: string) =>
      httpRequest(`${server.url}/uploads/${id}/chunks/${offset}`, {
        method: 'PUT',
        headers: { ...AUTH, 'Content-Type': 'application/octet-stream' },
        body,
      });

    expect((await put(3, 'abc')).status).toBe(409);
    // The staging directory becomes a file: the provider's write fails with ENOTDIR, answered 503.
    const staging = join(dataDir, 'blobs', '.valiblob', 'staging');
    await rm(staging, { recursive: true, force: true });
    await writeFile(staging, 'not a directory');
    try {
      const failed = await put(0, '0123456789');
      expect(failed.status).toBe(503);
      expect(failed.json.code).toBe('STORAGE_UNAVAILABLE');
    } finally {
      await rm(staging, { force: true });
      await mkdir(staging, { recursive: true });
    }
    await waitForLog(server, (out) => out.includes('503 STORAGE_UNAVAILABLE'));
    await server.stop();

    const all = records(server.stdout());
    const byMsg = (prefix: string) => all.filter((r) => typeof r.msg === 'string' && r.msg.startsWith(prefix));
    const upload = { context: 'ValiBlob', uploadId: id, ownerId: 'alice' };
    expect(byMsg('409 OFFSET_MISMATCH')).toEqual([expect.objectContaining({ ...upload, level: 20 })]);
    const failure = byMsg('Storage provider call failed');
    expect(failure).toEqual([expect.objectContaining({ ...upload, level: 50 })]);
    expect((failure[0].err as { stack?: string }).stack).toMatch(/ENOTDIR/);
    expect(byMsg('503 STORAGE_UNAVAILABLE')).toEqual([expect.objectContaining({ ...upload, level: 50 })]);
    // Nest's own lines went through pino too, the wiring lines logged before Nest booted included.
    expect(byMsg('Sessions: ')).toHaveLength(1);
    expect(byMsg('ValiBlob server listening on')).toHaveLength(1);
    // One line per finished request on the upload routes, its Authorization header redacted, no body.
    const requests = all.filter((r) => r.msg === 'request completed' || r.msg === 'request errored');
    expect(requests.map((r) => (r.res as { statusCode: number }).statusCode)).toEqual([201, 409, 503]);
    for (const r of requests) {
      expect((r.req as { headers: Record<string, string> }).headers.authorization).toBe('[redacted]');
    }
    expect(server.stdout()).not.toContain('Bearer tok');
    expect(server.stdout()).not.toContain('0123456789');
  });
});

describe('runnable server: LOG_FORMAT is checked at startup', () => {
  it('LOG_FORMAT=bogus: the server refuses to start and says what is allowed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vb-jsonlog-bad-'));
    try {
      await expect(
        startServer({
          STORAGE_DIR: join(dataDir, 'blobs'),
          DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
          LOG_FORMAT: 'bogus',
        }),
      ).rejects.toThrow(/exited with 1 before listening[\s\S]*LOG_FORMAT must be text or json \(got bogus\)/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
