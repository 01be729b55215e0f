import type { VirusScanResult } from './virus-scanner';
import { ScannerUnavailableError } from './scanner-unavailable.error';

/*
 * clamd's wire format, as far as ClamAvScanner uses it. Commands are sent `z`-prefixed and NUL-terminated
 * (`zINSTREAM\0`), so every reply ends with a NUL too. INSTREAM data follows the command on the same connection
 * as chunks, each preceded by its length as a 4-byte unsigned big-endian integer; a zero length ends the stream.
 */

/** Longest reply kept: clamd's replies are one short line, anything longer is not clamd. */
export const MAX_CLAMD_REPLY_BYTES = 4096;

/** A NUL-terminated command (`zINSTREAM\0`, `zPING\0`). */
export function clamdCommand(name: 'INSTREAM' | 'PING'): Buffer {
  return Buffer.from(`z${name}\0`, 'latin1');
}

/** The 4-byte big-endian length that precedes each INSTREAM chunk. */
export function chunkHeader(length: number): Buffer {
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(length, 0);
  return header;
}

/** The zero-length chunk that ends an INSTREAM transfer. */
export const END_OF_STREAM: Buffer = Buffer.alloc(4);

/** Split `data` into pieces of at most `size` bytes (views, not copies). */
export function* slices(data: Buffer, size: number): Generator<Buffer> {
  for (let start = 0; start < data.length; start += size) yield data.subarray(start, start + size);
}

/** A reply without its terminating NUL and surrounding whitespace. */
export function replyText(raw: Buffer): string {
  const end = raw.indexOf(0);
  return (end >= 0 ? raw.subarray(0, end) : raw).toString('utf8').trim();
}

/**
 * The verdict in an INSTREAM reply: `stream: OK`, or `stream: <Signature> FOUND`. Error replies
 * (`INSTREAM size limit exceeded. ERROR`, `stream: <why> ERROR`) and anything else throw `ScannerUnavailableError`.
 */
export function parseScanReply(reply: string): VirusScanResult {
  // `stream:` is the name clamd gives the scanned data; a session id (`1: `) would precede it under IDSESSION.
  const verdict = /^(?:\d+: )?stream: (.+)$/s.exec(reply)?.[1];
  if (verdict === 'OK') return { clean: true, signature: null };
  const signature = verdict?.endsWith(' FOUND') ? verdict.slice(0, -' FOUND'.length).trim() : '';
  if (signature !== '') return { clean: false, signature };
  throw replyError(reply);
}

/** The error an error reply (or an unexpected one) stands for; the reply text goes to `cause`. */
export function replyError(reply: string): ScannerUnavailableError {
  const cause = new Error(`clamd answered: ${JSON.stringify(reply.slice(0, 200))}`);
  if (/size limit exceeded/i.test(reply)) return new ScannerUnavailableError('size_limit', { cause });
  if (/ ERROR$/.test(reply)) return new ScannerUnavailableError('scanner_error', { cause });
  return new ScannerUnavailableError('bad_reply', { cause });
}
