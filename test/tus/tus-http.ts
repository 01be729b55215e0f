import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect, Socket } from 'node:net';
import { crc32 } from 'node:zlib';

/** tus request headers every protocol request carries. */
export const TUS = { 'Tus-Resumable': '1.0.0' } as const;
/** Content type of tus PATCH bodies. */
export const OFFSET_STREAM = 'application/offset+octet-stream';

/** Deterministic pseudo-random bytes (fast; byte-exact checks need content that is not all zeros). */
export function testBytes(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  for (let i = size - (size % 4); i < size; i++) out[i] = i & 0xff;
  return out;
}

/** Hex sha256. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Base64 digest of `data` with a tus checksum algorithm (crc32 as 4 big-endian bytes). */
export function digestB64(algorithm: 'sha1' | 'sha256' | 'md5' | 'crc32', data: Buffer): string {
  if (algorithm === 'crc32') {
    const value = crc32(data);
    const out = Buffer.alloc(4);
    out.writeUInt32BE(value >>> 0);
    return out.toString('base64');
  }
  return createHash(algorithm).update(data).digest('base64');
}

/** Result of `rawRequest`. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP/1.1 request with full control (chunked bodies, trailers), on its own connection (no keep-alive), so
 * a server that answers early and closes does not poison later requests.
 */
export function rawRequest(
  url: string,
  options: {
    method: string;
    headers?: Record<string, string>;
    body?: Buffer;
    chunked?: boolean;
    trailers?: Record<string, string>;
  },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method, headers: { Connection: 'close', ...options.headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.chunked) req.setHeader('Transfer-Encoding', 'chunked');
    if (options.body) req.write(options.body);
    if (options.trailers) req.addTrailers(options.trailers);
    req.end();
  });
}

/**
 * Open a PATCH whose body is only partly sent: returns the socket (to destroy or keep open) and a promise of
 * whatever the server answers on it (empty string if it answers nothing before the socket closes).
 */
export async function openPartialPatch(
  url: string,
  offset: number,
  declaredLength: number,
  firstPart: Buffer,
): Promise<{ socket: Socket; response: Promise<string>; sent: Promise<void> }> {
  const { hostname, port, pathname } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  const response = new Promise<string>((resolve) => {
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', () => undefined);
  });
  const head =
    `PATCH ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nTus-Resumable: 1.0.0\r\n` +
    `Upload-Offset: ${offset}\r\nContent-Type: ${OFFSET_STREAM}\r\nContent-Length: ${declaredLength}\r\n\r\n`;
  const sent = new Promise<void>((resolve) =>
    socket.write(Buffer.concat([Buffer.from(head), firstPart]), () => resolve()),
  );
  return { socket, response, sent };
}

/** Poll `check` until it returns true or the time runs out. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
