import { request } from 'node:http';
import { Readable } from 'node:stream';

/** A response as the tests look at it. */
export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Body parsed as JSON (undefined when it is not JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any shape; assertions read its fields
  json: any;
}

/**
 * Minimal HTTP client over a real socket (node:http), so tests control Content-Length, chunked bodies and
 * streaming exactly. `body` may be a Buffer (sent with Content-Length) or a Readable (sent chunked unless a
 * content-length header is given).
 */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: Buffer | string | Readable } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
    const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
    if (Buffer.isBuffer(body) && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
      headers['Content-Length'] = body.length;
    }
    // Split the URL by hand: WHATWG URL parsing would normalise `%2e%2e` segments away, and the tests must
    // be able to send exactly the path an attacker would.
    const match = /^http:\/\/([^/:]+):(\d+)(\/.*)?$/.exec(url);
    if (!match) throw new Error(`httpRequest needs http://host:port/path, got ${url}`);
    const target = { host: match[1], port: Number(match[2]), path: match[3] ?? '/' };
    const req = request({ ...target, method: options.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buffer = Buffer.concat(chunks);
        let json: unknown;
        if (String(res.headers['content-type'] ?? '').includes('json')) {
          try {
            json = JSON.parse(buffer.toString('utf8'));
          } catch {
            json = undefined;
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buffer, json });
      });
    });
    req.on('error', reject);
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}
