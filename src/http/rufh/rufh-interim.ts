import type { ServerResponse } from 'node:http';
import type { HttpExchange } from '../http-exchange';

/** Node's internal raw writer of `OutgoingMessage` (what `writeEarlyHints` and `writeProcessing` use). */
type RawWriter = (data: string, encoding: BufferEncoding, callback?: () => void) => boolean;

/** An HTTP/2 compatibility response (`node:http2`), whose stream can send extra header blocks. */
interface Http2Response {
  stream?: { additionalHeaders?(headers: Record<string, string | number>): void };
}

/**
 * Send a `104 (Upload Resumption Supported)` interim response before the final one (draft §5). Node 20 has no
 * public API for arbitrary 1xx codes (only 100, 102 and 103), so on HTTP/1.1 the status line is written through
 * `ServerResponse._writeRaw`, the path `writeEarlyHints` itself takes: it writes straight to the socket when this
 * response is the connection's current one and otherwise queues behind the earlier pipelined response, so the
 * interim never lands inside another response. HTTP/2 sends it as an extra header block. Skipped (returns `false`)
 * when the final response has started, for HTTP/1.0 clients (RFC 9110 §15.2: no 1xx to them), when no writer
 * exists, or when a value would not be a safe header line. Interim responses are optional in the draft, so a
 * skipped one only costs the client the early `Location`.
 */
export function sendUploadResumption(exchange: HttpExchange, headers: Record<string, string | number>): boolean {
  const { req } = exchange;
  const res = exchange.res as ServerResponse & { _writeRaw?: RawWriter };
  if (res.headersSent || res.writableEnded || res.destroyed) return false;
  const entries = Object.entries(headers).map(([name, value]) => [name, String(value)] as const);
  // Values are ours (URLs, integers), but a header line must never be able to end early.
  if (entries.some(([, value]) => /[\r\n\0]/.test(value))) return false;
  const http2 = (res as unknown as Http2Response).stream;
  if (req.httpVersionMajor === 2 && typeof http2?.additionalHeaders === 'function') {
    http2.additionalHeaders({ ':status': 104, ...Object.fromEntries(entries) });
    return true;
  }
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor < 1 || typeof res._writeRaw !== 'function') return false;
  let head = 'HTTP/1.1 104 Upload Resumption Supported\r\n';
  for (const [name, value] of entries) head += `${name}: ${value}\r\n`;
  res._writeRaw(`${head}\r\n`, 'latin1');
  return true;
}
