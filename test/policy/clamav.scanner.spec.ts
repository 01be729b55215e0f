import { once } from 'node:events';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InvalidValiBlobOptionsError } from '../../src/errors/bootstrap.errors';
import { ClamAvScanner } from '../../src/policy/clamav.scanner';
import { parseClamdAddress } from '../../src/policy/clamav-scanner.options';
import { parseScanReply } from '../../src/policy/clamd.protocol';
import { ScannerUnavailableError } from '../../src/policy/scanner-unavailable.error';
import type { VirusScanTarget } from '../../src/policy/virus-scanner';
import { eicarTestString, FakeClamd, FakeClamdOptions, startFakeClamd } from '../support/fake-clamd';

const TARGET: VirusScanTarget = { uploadId: 'u1', path: 'a/b.bin', size: 0, sha256: '' };
const MiB = 1024 * 1024;

/** A byte source generated on demand (nothing held in memory), counting what was read from it. */
class LazySource extends Readable {
  produced = 0;
  private readonly block: Buffer;
  constructor(
    private readonly total: number,
    blockSize = 256 * 1024,
    private readonly onRead: (produced: number) => void = () => undefined,
  ) {
    super();
    this.block = Buffer.alloc(blockSize, 0x61);
  }
  override _read(): void {
    const size = Math.min(this.block.length, this.total - this.produced);
    if (size === 0) return void this.push(null);
    this.produced += size;
    this.onRead(this.produced);
    this.push(this.block.subarray(0, size));
  }
}

/** The rejection of `promise`, which must be a ScannerUnavailableError. */
async function unavailable(promise: Promise<unknown>): Promise<ScannerUnavailableError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ScannerUnavailableError);
  return error as ScannerUnavailableError;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A TCP port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('ClamAvScanner (INSTREAM against a fake clamd)', () => {
  const fakes: FakeClamd[] = [];
  const start = async (options: FakeClamdOptions = {}) => {
    const fake = await startFakeClamd(options);
    fakes.push(fake);
    return fake;
  };
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((fake) => fake.close()));
  });

  it('answers clean for a clean stream, sending exactly its bytes, and closes its socket', async () => {
    const fake = await start();
    const scanner = new ClamAvScanner({ ...fake.address });
    await expect(scanner.scan(Readable.from([Buffer.from('hello '), Buffer.from('world')]), TARGET)).resolves.toEqual({
      clean: true,
      signature: null,
    });
    expect(fake.commands).toEqual(['INSTREAM']);
    expect(fake.bytesReceived).toBe(11);
    await waitFor(() => fake.openConnections === 0, 'the scanner to close its socket');
  });

  it('reports the signature clamd found (EICAR split over many small chunks)', async () => {
    const fake = await start();
    const scanner = new ClamAvScanner({ ...fake.address, chunkSize: 7 });
    const body = Buffer.from(`header ${eicarTestString()} trailer`, 'latin1');
    const result = await scanner.scan(
      Readable.from([body.subarray(0, 20), Buffer.alloc(0), body.subarray(20)]),
      TARGET,
    );
    expect(result).toEqual({ clean: false, signature: 'Eicar-Test-Signature' });
    expect(fake.bytesReceived).toBe(body.length);
  });

  it('streams 32 MiB with backpressure: the source is never read far ahead of what clamd received', async () => {
    const fake = await start({ mode: 'slow', slowDelayMs: 1 });
    const scanner = new ClamAvScanner({ ...fake.address });
    let maxLead = 0;
    const source = new LazySource(32 * MiB, 256 * 1024, (produced) => {
      maxLead = Math.max(maxLead, produced - fake.bytesReceived);
    });
    await expect(scanner.scan(source, TARGET)).resolves.toEqual({ clean: true, signature: null });
    expect(fake.bytesReceived).toBe(32 * MiB);
    // Buffering the upload would put the whole 32 MiB ahead; streaming leaves only the socket buffers in between.
    expect(maxLead).toBeLessThan(16 * MiB);
  });

  it("stops sending and reports clamd's size limit", async () => {
    const fake = await start({ streamMaxLength: 1 * MiB });
    const scanner = new ClamAvScanner({ ...fake.address });
    const source = new LazySource(256 * MiB);
    const error = await unavailable(scanner.scan(source, TARGET));
    expect(error.reason).toBe('size_limit');
    expect(error.code).toBe('SCANNER_UNAVAILABLE');
    expect(error.status).toBe(503);
    expect(fake.replies).toEqual(['INSTREAM size limit exceeded. ERROR']);
    expect(source.destroyed).toBe(true);
    expect(source.produced).toBeLessThan(64 * MiB);
  });

  it('rejects within timeoutMs when clamd never answers', async () => {
    const fake = await start({ mode: 'hang' });
    const scanner = new ClamAvScanner({ ...fake.address, timeoutMs: 500 });
    const started = Date.now();
    const error = await unavailable(scanner.scan(Readable.from([Buffer.from('data')]), TARGET));
    const elapsed = Date.now() - started;
    expect(error.reason).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(2000);
    await waitFor(() => fake.openConnections === 0, 'the scanner to close its socket');
  });

  it('gives up after idleTimeoutMs when clamd stops reading', async () => {
    const fake = await start({ mode: 'stall' });
    const scanner = new ClamAvScanner({ ...fake.address, idleTimeoutMs: 300, timeoutMs: 30_000 });
    const source = new LazySource(1024 * MiB);
    const started = Date.now();
    expect((await unavailable(scanner.scan(source, TARGET))).reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(source.destroyed).toBe(true);
  });

  it('gives up after idleTimeoutMs when the upload stops yielding bytes, and destroys it', async () => {
    const fake = await start();
    const scanner = new ClamAvScanner({ ...fake.address, idleTimeoutMs: 300, timeoutMs: 30_000 });
    const source = new Readable({ read: () => undefined });
    source.push(Buffer.from('first bytes, then nothing'));
    expect((await unavailable(scanner.scan(source, TARGET))).reason).toBe('timeout');
    expect(source.destroyed).toBe(true);
    await waitFor(() => fake.openConnections === 0, 'the scanner to close its socket');
  });

  it.each([0, 200_000])('reports a connection clamd closes without answering (after %i bytes)', async (after) => {
    const fake = await start({ mode: 'closeEarly', closeAfterBytes: after });
    const scanner = new ClamAvScanner({ ...fake.address });
    const source = new LazySource(8 * MiB);
    expect((await unavailable(scanner.scan(source, TARGET))).reason).toBe('connection_lost');
    expect(source.destroyed).toBe(true);
  });

  it('reports a scanner that is down, without its address in the message, and closes the input file', async () => {
    const port = await freePort();
    const scanner = new ClamAvScanner({ host: '127.0.0.1', port });
    const dir = mkdtempSync(join(tmpdir(), 'clamav-spec-'));
    try {
      writeFileSync(join(dir, 'upload.bin'), 'some bytes');
      const file = createReadStream(join(dir, 'upload.bin'));
      const closed = once(file, 'close');
      const error = await unavailable(scanner.scan(file, TARGET));
      expect(error.reason).toBe('unreachable');
      expect(error.message).not.toContain(String(port));
      expect(String((error.cause as Error).message)).toContain(String(port));
      await closed;
      expect(file.destroyed).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes the input's own error through (not a scanner failure) and still closes the socket", async () => {
    const fake = await start();
    const scanner = new ClamAvScanner({ ...fake.address });
    const source = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    await expect(scanner.scan(source, TARGET)).rejects.toThrow('disk on fire');
    await waitFor(() => fake.openConnections === 0, 'the scanner to close its socket');
  });

  it('works over a Unix socket', async () => {
    const fake = await start({ unixSocket: true });
    const scanner = new ClamAvScanner({ socketPath: (fake.address as { socketPath: string }).socketPath });
    await expect(scanner.scan(Readable.from([Buffer.from('clean')]), TARGET)).resolves.toEqual({
      clean: true,
      signature: null,
    });
    const infected = Readable.from([Buffer.from(eicarTestString(), 'latin1')]);
    await expect(scanner.scan(infected, TARGET)).resolves.toEqual({ clean: false, signature: 'Eicar-Test-Signature' });
    await scanner.ping();
    const missing = new ClamAvScanner({ socketPath: join(tmpdir(), `no-clamd-${process.pid}.sock`) });
    expect((await unavailable(missing.scan(Readable.from([Buffer.from('x')]), TARGET))).reason).toBe('unreachable');
  });

  it('pings: PONG resolves, down or silent clamd rejects', async () => {
    const fake = await start();
    await expect(new ClamAvScanner({ ...fake.address }).ping()).resolves.toBeUndefined();
    expect(fake.commands).toEqual(['PING']);
    const down = new ClamAvScanner({ host: '127.0.0.1', port: await freePort() });
    expect((await unavailable(down.ping())).reason).toBe('unreachable');
    const hung = await start({ mode: 'hang' });
    const silent = new ClamAvScanner({ ...hung.address, idleTimeoutMs: 300 });
    expect((await unavailable(silent.ping())).reason).toBe('timeout');
  });
});

describe('clamd replies', () => {
  it.each([
    ['stream: OK', { clean: true, signature: null }],
    ['stream: Eicar-Test-Signature FOUND', { clean: false, signature: 'Eicar-Test-Signature' }],
    ['1: stream: Win.Test.EICAR_HDB-1 FOUND', { clean: false, signature: 'Win.Test.EICAR_HDB-1' }],
  ])('%s is a verdict', (reply, verdict) => {
    expect(parseScanReply(reply)).toEqual(verdict);
  });

  it.each([
    ['INSTREAM size limit exceeded. ERROR', 'size_limit'],
    ["stream: Can't allocate memory ERROR", 'scanner_error'],
    ['UNKNOWN COMMAND', 'bad_reply'],
    ['stream:  FOUND', 'bad_reply'],
    ['', 'bad_reply'],
  ])('%s is an error', (reply, reason) => {
    expect(() => parseScanReply(reply)).toThrow(ScannerUnavailableError);
    expect(() => parseScanReply(reply)).toThrow(expect.objectContaining({ reason }));
  });
});

describe('ClamAvScanner options', () => {
  it.each([
    [{}, 'exactly one of host/port'],
    [{ host: 'clamav', socketPath: '/run/clamd.sock' }, 'exactly one of host/port'],
    [{ port: 0 }, 'port must be'],
    [{ port: 70000 }, 'port must be'],
    [{ port: 3310.5 }, 'port must be'],
    [{ host: '' }, 'host must be'],
    [{ socketPath: '' }, 'socketPath must be'],
    [{ port: 3310, chunkSize: 0 }, 'chunkSize must be'],
    [{ port: 3310, timeoutMs: -1 }, 'timeoutMs must be'],
    [{ port: 3310, idleTimeoutMs: 1.5 }, 'idleTimeoutMs must be'],
  ])('refuses %j', (options, problem) => {
    expect(() => new ClamAvScanner(options)).toThrow(InvalidValiBlobOptionsError);
    expect(() => new ClamAvScanner(options)).toThrow(problem);
  });

  it('accepts host alone, port alone, or a socket path', () => {
    expect(() => new ClamAvScanner({ host: 'clamav' })).not.toThrow();
    expect(() => new ClamAvScanner({ port: 3310 })).not.toThrow();
    expect(() => new ClamAvScanner({ socketPath: '/run/clamav/clamd.ctl' })).not.toThrow();
  });
});

describe('parseClamdAddress', () => {
  it.each([
    ['clamav:3310', { host: 'clamav', port: 3310 }],
    ['127.0.0.1:3310', { host: '127.0.0.1', port: 3310 }],
    [' tcp://clamav.internal:3311 ', { host: 'clamav.internal', port: 3311 }],
    ['tcp://clamav:3310/', { host: 'clamav', port: 3310 }],
    ['[::1]:3310', { host: '::1', port: 3310 }],
    ['tcp://[fd00::5]:3310', { host: 'fd00::5', port: 3310 }],
    ['unix:/run/clamav/clamd.ctl', { socketPath: '/run/clamav/clamd.ctl' }],
    ['unix:///run/clamav/clamd.ctl', { socketPath: '/run/clamav/clamd.ctl' }],
    ['/var/run/clamd.sock', { socketPath: '/var/run/clamd.sock' }],
  ])('%s', (value, expected) => {
    expect(parseClamdAddress(value)).toEqual(expected);
  });

  it.each([
    '',
    'clamav',
    'clamav:',
    'clamav:0',
    'clamav:65536',
    'clamav:33x',
    'http://clamav:3310',
    'unix:rel.sock',
    '::1:3310',
  ])('refuses %j', (value) => {
    expect(() => parseClamdAddress(value)).toThrow(InvalidValiBlobOptionsError);
  });
});
