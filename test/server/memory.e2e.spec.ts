import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { httpRequest } from '../support/http-client';
import { ServerProcess, startServer } from '../support/server-process';

const MiB = 1024 * 1024;

/** Resident set size of a process in bytes, from /proc (Linux). */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Memory stays flat: a 1 GiB upload through the REST API into local disk must not grow the server's RSS by
 * more than 64 MiB. The client streams generated data (it never holds the file either) and the server's RSS
 * is sampled every 20 ms while it runs.
 */
describe('server memory during a 1 GiB upload', () => {
  let dataDir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vb-rss-'));
    server = await startServer({
      STORAGE_DIR: join(dataDir, 'blobs'),
      DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
    });
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const post = (body: unknown) =>
    httpRequest(`${server.url}/uploads`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('keeps RSS growth under 64 MiB for 1 GiB in 16 MiB chunks', async () => {
    // Warm up every code path once so lazy module loading is not counted as growth.
    const warm = await post({ totalSize: 2 * MiB, path: 'warm.bin' });
    await httpRequest(`${server.url}/uploads/${warm.json.uploadId}/chunks/0`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: randomBytes(2 * MiB),
    });
    await httpRequest(`${server.url}/uploads/${warm.json.uploadId}/complete`, { method: 'POST' });
    await new Promise((r) => setTimeout(r, 500));
    const baseline = rssOf(server.pid);

    const total = 1024 * MiB;
    const chunkSize = 16 * MiB;
    const block = randomBytes(MiB);
    const hash = createHash('sha256');
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(server.pid))), 20);
    const created = await post({ totalSize: total, path: 'big/one-gib.bin' });
    const id = created.json.uploadId as string;
    try {
      for (let offset = 0; offset < total; offset += chunkSize) {
        const chunkIndex = offset / chunkSize;
        // Generated on the fly: 16 distinct 1 MiB blocks per chunk, never a whole chunk in memory.
        const body = Readable.from(
          (function* () {
            for (let i = 0; i < chunkSize / MiB; i++) {
              const piece = Buffer.from(block);
              piece.writeUInt32BE(chunkIndex * 16 + i, 0);
              hash.update(piece);
              yield piece;
            }
          })(),
        );
        const res = await httpRequest(`${server.url}/uploads/${id}/chunks/${offset}`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': chunkSize },
          body,
        });
        expect(res.status).toBe(200);
      }
      const done = await httpRequest(`${server.url}/uploads/${id}/complete`, { method: 'POST' });
      expect(done.status).toBe(200);
      expect(done.json.session.checksum).toBe(hash.digest('hex'));
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - baseline;
    // eslint-disable-next-line no-console -- the RSS figures are reported in the test output on purpose
    console.log(
      `1 GiB upload: baseline RSS ${(baseline / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, ` +
        `growth ${(growth / MiB).toFixed(1)} MiB`,
    );
    expect(growth).toBeLessThan(64 * MiB);
  }, 300_000);
});
