import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** A finished HTTP exchange. */
export interface RaceReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * Send `body` to `url` with a declared Content-Length, `piece` bytes at a time with `pauseMs` between pieces, so
 * the request is still mid-body when a competing request arrives. A connection the server closes early
 * still yields the reply it sent.
 */
export function sendSlowly(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Buffer,
  piece: number,
  pauseMs: number,
): Promise<RaceReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, 'Content-Length': String(body.length) } });
    let finished = false;
    req.on('response', (res) => {
      finished = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', (error) => (finished ? undefined : reject(error)));
    void (async () => {
      for (let at = 0; at < body.length && !finished; at += piece) {
        if (!req.write(body.subarray(at, at + piece))) await new Promise((r) => req.once('drain', r));
        if (pauseMs > 0) await sleep(pauseMs);
      }
      if (!finished) req.end();
    })().catch(() => undefined);
  });
}

/** The JSON body of a reply, or `{}`. */
export function jsonOf(reply: RaceReply): Record<string, unknown> {
  try {
    return JSON.parse(reply.text) as Record<string, unknown>;
  } catch {
    return {};
  }
}
