import { InvalidValiBlobOptionsError } from '../errors/bootstrap.errors';
import { printable } from '../errors/printable';

/**
 * Where clamd listens and how long a scan may take. Give either `host`/`port` (TCP) or `socketPath` (Unix
 * socket), never both; clamd must have `StreamMaxLength` at least as large as the biggest upload it is to scan.
 * @publicApi
 */
export interface ClamAvScannerOptions {
  /** clamd's TCP host (`TCPAddr`). @default '127.0.0.1' when `port` is given */
  host?: string;
  /** clamd's TCP port (`TCPSocket`). @default 3310 when `host` is given */
  port?: number;
  /** clamd's Unix socket (`LocalSocket`), instead of `host`/`port`. */
  socketPath?: string;
  /** Bytes per INSTREAM chunk (the size of each write to clamd). @default 65_536 */
  chunkSize?: number;
  /** Longest a scan may take from connecting to the verdict, in ms. @default 60_000 */
  timeoutMs?: number;
  /**
   * Longest the transfer may stall (no byte read from the upload, none accepted by clamd), in ms. Once the whole
   * stream is sent clamd is silent while it scans, so only `timeoutMs` bounds the wait for the verdict. `ping()`
   * is bounded by the shorter of the two. @default 30_000
   */
  idleTimeoutMs?: number;
}

/** Defaults of `ClamAvScanner`. */
export const CLAMAV_SCANNER_DEFAULTS = {
  host: '127.0.0.1',
  port: 3310,
  chunkSize: 64 * 1024,
  timeoutMs: 60_000,
  idleTimeoutMs: 30_000,
} as const;

/** Largest chunk accepted: bigger chunks only cost memory, clamd gains nothing from them. */
const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** setTimeout's limit (larger delays fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Where clamd listens, once resolved. */
export type ClamdAddress = { host: string; port: number } | { socketPath: string };

/** `ClamAvScanner`'s options with every default applied. */
export interface ResolvedClamAvScannerOptions {
  address: ClamdAddress;
  chunkSize: number;
  timeoutMs: number;
  idleTimeoutMs: number;
}

/** Apply the defaults and check the values; every problem is reported at once (`InvalidValiBlobOptionsError`). */
export function resolveClamAvScannerOptions(options: ClamAvScannerOptions): ResolvedClamAvScannerOptions {
  const problems: string[] = [];
  if (typeof options !== 'object' || options === null) {
    throw new InvalidValiBlobOptionsError(['ClamAvScanner: options must be an object']);
  }
  const tcp = options.host !== undefined || options.port !== undefined;
  const unix = options.socketPath !== undefined;
  if (tcp === unix) problems.push('ClamAvScanner: give exactly one of host/port (TCP) or socketPath (Unix socket)');
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host.trim() === '')) {
    problems.push('ClamAvScanner: host must be a non-empty string');
  }
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 1 && options.port <= 65535)) {
    problems.push('ClamAvScanner: port must be an integer in 1..65535');
  }
  if (unix && (typeof options.socketPath !== 'string' || options.socketPath === '')) {
    problems.push('ClamAvScanner: socketPath must be a non-empty string');
  }
  const resolved: ResolvedClamAvScannerOptions = {
    address: unix
      ? { socketPath: options.socketPath! }
      : { host: options.host ?? CLAMAV_SCANNER_DEFAULTS.host, port: options.port ?? CLAMAV_SCANNER_DEFAULTS.port },
    chunkSize: options.chunkSize ?? CLAMAV_SCANNER_DEFAULTS.chunkSize,
    timeoutMs: options.timeoutMs ?? CLAMAV_SCANNER_DEFAULTS.timeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? CLAMAV_SCANNER_DEFAULTS.idleTimeoutMs,
  };
  for (const [name, value, max] of [
    ['chunkSize', resolved.chunkSize, MAX_CHUNK_SIZE],
    ['timeoutMs', resolved.timeoutMs, MAX_TIMER_MS],
    ['idleTimeoutMs', resolved.idleTimeoutMs, MAX_TIMER_MS],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      problems.push(`ClamAvScanner: ${name} must be an integer in 1..${max}`);
    }
  }
  if (problems.length > 0) throw new InvalidValiBlobOptionsError(problems);
  return resolved;
}

/**
 * Read a clamd address as written in configuration (e.g. the server's `CLAMD` variable): `host:port`,
 * `tcp://host:port` (IPv6 in brackets: `[::1]:3310`), `unix:/path/to/clamd.sock`, or an absolute socket path.
 * Throws `InvalidValiBlobOptionsError` for anything else.
 * @publicApi
 */
export function parseClamdAddress(value: string): ClamAvScannerOptions {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.startsWith('unix:')) return unixAddress(text.slice('unix:'.length).replace(/^\/\/(?=\/)/, ''), value);
  if (text.startsWith('/')) return unixAddress(text, value);
  const hostPort = text.startsWith('tcp://') ? text.slice('tcp://'.length).replace(/\/$/, '') : text;
  // A bracketed IPv6 host, or a host without colons; the port is mandatory (no silent default in configuration).
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/[\]@]+)):(\d{1,5})$/.exec(hostPort);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new InvalidValiBlobOptionsError([
      `clamd address "${printable(String(value))}" must be host:port, tcp://host:port, unix:/path or /path`,
    ]);
  }
  return { host: match[1] ?? match[2], port };
}

/** A Unix socket address; the path must be absolute so it does not depend on the working directory. */
function unixAddress(path: string, value: string): ClamAvScannerOptions {
  if (!path.startsWith('/') || path.includes('\0')) {
    throw new InvalidValiBlobOptionsError([`clamd socket path in "${printable(String(value))}" must be absolute`]);
  }
  return { socketPath: path };
}
