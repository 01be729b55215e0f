import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, ServerProcess } from '../support/server-process';
import { OFFSET_STREAM, TUS, waitFor } from './tus-http';

const MiB = 1024 * 1024;
const DECLARED = 4 * 1024 * MiB;
const STREAMED = 512 * MiB;
/** Most the server's resident memory may grow while it streams the chunk. */
const RSS_BOUND = 96 * MiB;

/** Resident set size of a process in bytes (Linux /proc). */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/**
 * The runnable server (spawned as `npm start` runs it) receives one PATCH of a 4 GiB declared upload and the
 * client streams 512 MiB into it from a generator, then goes away. The server's RSS is sampled throughout: it
 * must stay within a fixed bound (streaming, never buffering the chunk), and the bytes that arrived are kept.
 */
describe('tus PATCH memory bound (runnable server)', () => {
  let server: ServerProcess;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'valiblob-tusmem-'));
    server = await startServer({
      STORAGE_DIR: join(dir, 'blobs'),
      DATABASE_URL: `sqlite:${join(dir, 'sessions.sqlite')}`,
    });
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it(`streams ${STREAMED / MiB} MiB of a ${DECLARED / MiB} MiB upload in one PATCH with bounded RSS`, async () => {
    const endpoint = `${server.url}/files`;
    const created = await fetch(endpoint, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(DECLARED) } });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get('location')!, endpoint).toString();
    // Warm up (JIT, pools, SQLite) so the baseline is the steady state.
    const warm = await fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM },
      body: Buffer.alloc(MiB, 1),
    });
    expect(warm.status).toBe(204);
    const baseline = await rssOf(server.pid);

    let peak = baseline;
    const sampler = setInterval(() => {
      rssOf(server.pid).then(
        (rss) => (peak = Math.max(peak, rss)),
        () => undefined,
      );
    }, 50);

    const block = Buffer.alloc(MiB, 7);
    let sent = 0;
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(url, {
        method: 'PATCH',
        agent: false,
        headers: {
          ...TUS,
          'Upload-Offset': String(MiB),
          'Content-Type': OFFSET_STREAM,
          'Content-Length': String(DECLARED - MiB),
        },
      });
      req.on('error', () => resolve());
      req.on('response', (res) => reject(new Error(`server answered ${res.statusCode} before the body ended`)));
      // Write with backpressure, as a generator-fed client would; then disconnect mid-body.
      const pump = () => {
        while (sent < STREAMED) {
          sent += block.length;
          if (!req.write(block)) return void req.once('drain', pump);
        }
        req.once('drain', () => undefined);
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 300);
      };
      pump();
    });
    const seconds = (Date.now() - started) / 1000;

    await waitFor(
      async () => {
        const head = await fetch(url, { method: 'HEAD', headers: TUS });
        return Number(head.headers.get('upload-offset')) > MiB;
      },
      30_000,
      200,
    );
    clearInterval(sampler);
    const offset = Number((await fetch(url, { method: 'HEAD', headers: TUS })).headers.get('upload-offset'));
    const growth = peak - baseline;
    // eslint-disable-next-line no-console -- the throughput and RSS are reported in the test output on purpose
    console.log(
      `tus memory: streamed ${sent / MiB} MiB in ${seconds.toFixed(1)} s ` +
        `(${(sent / MiB / seconds).toFixed(0)} MiB/s); ` +
        `server RSS baseline ${(baseline / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, ` +
        `growth ${(growth / MiB).toFixed(1)} MiB; ` +
        `stored offset ${offset}`,
    );
    expect(growth).toBeLessThan(RSS_BOUND);
    // What arrived before the disconnect is durable (the socket may have held back the last few KiB).
    expect(offset).toBeGreaterThan(STREAMED - 8 * MiB);
    expect(offset).toBeLessThanOrEqual(MiB + STREAMED);
  }, 120_000);
});
