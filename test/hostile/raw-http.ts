import { connect } from 'node:net';

/** An HTTP answer read off a raw socket. */
export interface RawAnswer {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Send `head` (request line and headers, without the final blank line) and `body` on a fresh socket exactly as
 * written — e.g. an absolute-form target (`POST http://evil.example/files HTTP/1.1`) that no HTTP client
 * library would send — and read the answer until the server closes (`Connection: close` is added).
 */
export function rawHttp(port: number, head: string, body = ''): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const split = data.indexOf('\r\n\r\n');
      const lines = data.slice(0, split < 0 ? data.length : split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(lines[0]?.split(' ')[1] ?? 0), headers, body: split < 0 ? '' : data.slice(split + 4) });
    });
    const length = Buffer.byteLength(body);
    socket.write(`${head}\r\nConnection: close\r\nContent-Length: ${length}\r\n\r\n${body}`);
  });
}
