import { Agent, get } from 'node:http';
import { randomBytes } from 'node:crypto';
import { PLATFORMS, startTusApp } from '../tus/tus-app';

/**
 * `app.close()` must not wait out a client's keep-alive timeout (72 s on Fastify, 5 s on Node's server): a
 * connection still busy with a download when shutdown begins turns idle a moment later and must then be closed,
 * not left to the platform's timer. The response itself is never cut.
 */
describe.each(PLATFORMS)('shutdown with a keep-alive download in flight on %s', (platform) => {
  it('the download completes, then app.close() finishes within 2 s', async () => {
    const t = await startTusApp(platform);
    const data = randomBytes(4 * 1024 * 1024);
    const created = await fetch(t.endpoint, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(data.length),
        'Content-Type': 'application/offset+octet-stream',
      },
      body: data,
    });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get('location')!, t.endpoint);
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
    try {
      let closing: Promise<void> | undefined;
      let downloadedAt = 0;
      const received = await new Promise<number>((resolve, reject) => {
        get(url, { agent, headers: { 'Tus-Resumable': '1.0.0' } }, (res) => {
          let bytes = 0;
          res.pause();
          // Shutdown begins while the response is still being sent: the connection is busy at server.close().
          closing = t.app.close();
          setTimeout(() => {
            res.on('data', (chunk: Buffer) => (bytes += chunk.length));
            res.on('end', () => {
              downloadedAt = Date.now();
              resolve(bytes);
            });
            res.resume();
          }, 300);
        }).on('error', reject);
      });
      expect(received).toBe(data.length);
      await closing;
      expect(Date.now() - downloadedAt).toBeLessThan(2000);
    } finally {
      agent.destroy();
      await t.close().catch(() => undefined);
    }
  }, 30_000);
});
