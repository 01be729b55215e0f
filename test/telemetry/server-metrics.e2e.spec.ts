import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest } from '../support/http-client';
import { loadServerConfig } from '../../src/server/server.config';
import { ServerProcess, startServer } from '../support/server-process';

const TOKEN = 'metrics-test-token';
const TUS = { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${TOKEN}` };
const OCTETS = { ...TUS, 'Content-Type': 'application/offset+octet-stream' };

/** The value of the one sample `name{…labels…}` whose labels include every `labels` pair, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const values = text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
  if (values.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${values.length} samples`);
  return values[0];
}

async function withServer(env: Record<string, string>, work: (server: ServerProcess) => Promise<void>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'vb-server-metrics-'));
  const server = await startServer({
    STORAGE_DIR: join(dataDir, 'blobs'),
    DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
    AUTH_TOKEN: TOKEN,
    ...env,
  });
  try {
    await work(server);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- server output ---\n${server.output()}`);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('the runnable server: METRICS=on serves /metrics in the Prometheus text format', () => {
  it('counts a tus upload (with a 409 on the way) and serves it at /metrics without a token', async () => {
    await withServer({ METRICS: 'on' }, async (server) => {
      const created = await httpRequest(`${server.url}/files`, {
        method: 'POST',
        headers: { ...TUS, 'Upload-Length': 11 },
      });
      expect(created.status).toBe(201);
      const url = `${server.url}${created.headers.location}`;
      const patch = (offset: number, body: string) =>
        httpRequest(url, { method: 'PATCH', headers: { ...OCTETS, 'Upload-Offset': offset }, body });
      expect((await patch(0, 'hello ')).status).toBe(204);
      expect((await patch(2, 'world')).status).toBe(409);
      expect((await patch(6, 'world')).status).toBe(204);

      const scrape = await httpRequest(`${server.url}/metrics`);
      expect(scrape.status).toBe(200);
      expect(String(scrape.headers['content-type'])).toContain('text/plain');
      const text = scrape.body.toString('utf8');
      const tus = { provider: 'local', transport: 'tus' };
      expect(sample(text, 'valiblob_uploads_started_total', tus)).toBe(1);
      expect(sample(text, 'valiblob_uploads_completed_total', tus)).toBe(1);
      expect(sample(text, 'valiblob_upload_received_bytes_total', tus)).toBe(11);
      expect(sample(text, 'valiblob_upload_failures_total', { code: 'OFFSET_MISMATCH', transport: 'tus' })).toBe(1);
      expect(sample(text, 'valiblob_chunk_duration_count', { transport: 'tus' })).toBe(3);
      expect(sample(text, 'valiblob_complete_duration_count', { transport: 'tus' })).toBe(1);
      expect(sample(text, 'valiblob_chunks_in_flight', { transport: 'tus' })).toBe(0);
      expect(sample(text, 'valiblob_store_duration_count', { store: 'typeorm', operation: 'save' })).toBe(1);
      expect(text).toContain('# TYPE valiblob_chunk_duration histogram');
      // Seconds buckets (the SDK's defaults would start at 5).
      expect(sample(text, 'valiblob_chunk_duration_bucket', { transport: 'tus', le: '0.001' })).toBeDefined();
      // The token guards the upload routes, not the scrape (as /health).
      const anonymous = await httpRequest(`${server.url}/files`, {
        method: 'POST',
        headers: { 'Tus-Resumable': '1.0.0' },
      });
      expect(anonymous.status).toBe(401);
    });
  });

  it('reads METRICS as on/off (default off) and refuses anything else', () => {
    const base = { DATABASE_URL: 'postgres://localhost/x' };
    expect(loadServerConfig(base).metrics).toBe(false);
    expect(loadServerConfig({ ...base, METRICS: 'on' }).metrics).toBe(true);
    expect(loadServerConfig({ ...base, METRICS: 'off' }).metrics).toBe(false);
    expect(() => loadServerConfig({ ...base, METRICS: 'prometheus' })).toThrow('METRICS must be on or off');
  });

  it('has no /metrics without METRICS', async () => {
    await withServer({}, async (server) => {
      expect((await httpRequest(`${server.url}/metrics`)).status).toBe(404);
      expect((await httpRequest(`${server.url}/health`)).status).toBe(200);
    });
  });
});
