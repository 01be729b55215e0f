import type { Readable } from 'node:stream';
import {
  ClamAvScannerOptions,
  ResolvedClamAvScannerOptions,
  resolveClamAvScannerOptions,
} from './clamav-scanner.options';
import { ClamdConnection } from './clamd.connection';
import { chunkHeader, clamdCommand, END_OF_STREAM, parseScanReply, slices } from './clamd.protocol';
import { ScannerUnavailableError } from './scanner-unavailable.error';
import { VirusScanner, VirusScanResult, VirusScanTarget } from './virus-scanner';

/**
 * The built-in virus scanner: ClamAV's daemon (clamd), over TCP or its Unix socket, with the INSTREAM command.
 * The upload is streamed to clamd as it is read (one chunk in flight, backpressure from the socket), so memory
 * stays flat whatever the size; clamd's `StreamMaxLength` must allow the largest upload or the scan fails.
 * Only `node:net` is used: no binary, no child process.
 *
 * `scan` rejects with `ScannerUnavailableError` when clamd gives no verdict (unreachable, reset, timeout, size
 * limit, clamd error), and with the input's own error when the upload cannot be read; either way the input stream
 * is destroyed (its file descriptor released). The socket is always destroyed.
 *
 * ```ts
 * policy: { scan: { scanner: new ClamAvScanner({ host: 'clamav', port: 3310 }) } }
 * ```
 * @publicApi
 */
export class ClamAvScanner extends VirusScanner {
  private readonly options: ResolvedClamAvScannerOptions;

  /** Checks the options at once (`InvalidValiBlobOptionsError`); nothing connects before the first scan. */
  constructor(options: ClamAvScannerOptions) {
    super();
    this.options = resolveClamAvScannerOptions(options);
  }

  /** Stream `stream` to clamd and return its verdict (`signature` is the name clamd reports, when not clean). */
  override async scan(stream: Readable, _target: VirusScanTarget): Promise<VirusScanResult> {
    const { address, chunkSize, timeoutMs, idleTimeoutMs } = this.options;
    // A failed connection also ends a read that waits on the input (a stalled upload must not outlive the deadline).
    const connection = new ClamdConnection(address, { timeoutMs, idleTimeoutMs }, () => stream.destroy());
    try {
      await connection.open();
      await connection.send(clamdCommand('INSTREAM'));
      for await (const data of stream) {
        for (const piece of slices(asBuffer(data), chunkSize)) await connection.send(chunkHeader(piece.length), piece);
      }
      connection.finish(END_OF_STREAM);
      return parseScanReply(await connection.answer());
    } catch (error) {
      stream.destroy();
      // When the connection failed, reading stopped because of it: its error is the one that explains.
      throw connection.failure ?? error;
    } finally {
      connection.destroy();
    }
  }

  /** Resolves when clamd answers `PING` with `PONG`; bounded by the shorter of `timeoutMs` and `idleTimeoutMs`. */
  override async ping(): Promise<void> {
    const limit = Math.min(this.options.timeoutMs, this.options.idleTimeoutMs);
    const connection = new ClamdConnection(this.options.address, { timeoutMs: limit, idleTimeoutMs: limit });
    try {
      await connection.open();
      connection.finish(clamdCommand('PING'));
      const reply = await connection.answer();
      if (reply !== 'PONG') {
        throw new ScannerUnavailableError('bad_reply', { cause: new Error(`clamd answered PING with ${reply}`) });
      }
    } finally {
      connection.destroy();
    }
  }
}

/** Chunks as bytes: a stream with an encoding set yields strings, other byte streams plain Uint8Arrays. */
function asBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('ClamAvScanner: the stream must yield bytes (Buffer, Uint8Array or string)');
}
