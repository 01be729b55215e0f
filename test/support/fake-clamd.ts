import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The EICAR test string, assembled at run time so no file of the repository contains it whole (which would get
 * the repository itself flagged by virus scanners).
 */
export function eicarTestString(): string {
  return 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
}

/**
 * How the fake behaves after accepting a connection:
 * - `normal`: like clamd;
 * - `hang`: reads everything, never answers, never closes (a scanner stuck scanning);
 * - `stall`: never reads a byte (a scanner that stopped reading: the client's writes back up);
 * - `closeEarly`: closes without answering once `closeAfterBytes` stream bytes arrived (0: right after the command);
 * - `slow`: like `normal`, but pauses `slowDelayMs` after every read (backpressure reaches the client).
 */
export type FakeClamdMode = 'normal' | 'hang' | 'stall' | 'closeEarly' | 'slow';

/** Options of `startFakeClamd`. */
export interface FakeClamdOptions {
  mode?: FakeClamdMode;
  /** Largest INSTREAM accepted, like clamd's `StreamMaxLength`. @default 64 MiB */
  streamMaxLength?: number;
  /** Listen on a fresh Unix socket under the OS temp dir instead of 127.0.0.1:<random port>. */
  unixSocket?: boolean;
  /** `closeEarly`: stream bytes to accept before closing. @default 0 */
  closeAfterBytes?: number;
  /** `slow`: pause after every read, in ms. @default 5 */
  slowDelayMs?: number;
  /** TCP port to listen on (to bring a stopped clamd back at the same address). @default a random free port */
  port?: number;
}

/** A running fake clamd. */
export interface FakeClamd {
  /** Where it listens, in `ClamAvScannerOptions` form. */
  readonly address: { host: string; port: number } | { socketPath: string };
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections not yet closed. */
  readonly openConnections: number;
  /** INSTREAM payload bytes received so far, all connections together (framing not counted). */
  readonly bytesReceived: number;
  /** Commands received, without prefix and terminator (`INSTREAM`, `PING`, …). */
  readonly commands: string[];
  /** Replies sent, without terminator. */
  readonly replies: string[];
  /** Stop listening and drop every open connection. */
  close(): Promise<void>;
}

const SIGNATURE = 'Eicar-Test-Signature';

/**
 * Start a fake clamd that speaks the real protocol: `z`/`n`-prefixed commands (`PING`, `VERSION`, `INSTREAM`),
 * INSTREAM chunks framed by a 4-byte big-endian length and ended by a zero length, replies `stream: OK`,
 * `stream: Eicar-Test-Signature FOUND` (the EICAR string anywhere in the stream) or
 * `INSTREAM size limit exceeded. ERROR`, each followed by NUL (`z`) or newline (`n`), then closes like clamd.
 * The stream is not kept: EICAR is searched with a small carry-over between reads, so memory stays flat.
 */
export async function startFakeClamd(options: FakeClamdOptions = {}): Promise<FakeClamd> {
  const mode = options.mode ?? 'normal';
  const eicar = Buffer.from(eicarTestString(), 'latin1');
  const streamMaxLength = options.streamMaxLength ?? 64 * 1024 * 1024;
  const sockets = new Set<Socket>();
  const state = { connections: 0, bytesReceived: 0, commands: [] as string[], replies: [] as string[] };

  const server: Server = createServer((socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // clients reset connections on purpose (timeouts, size limits)
    if (mode === 'stall') return socket.pause();

    let pending = Buffer.alloc(0);
    let step: 'command' | 'length' | 'data' | 'done' = 'command';
    let terminator = '\0';
    let remaining = 0;
    let streamed = 0;
    let tail = Buffer.alloc(0);
    let found = false;

    const answer = (reply: string) => {
      step = 'done';
      state.replies.push(reply);
      if (mode === 'hang') return;
      // clamd closes right after its reply, whatever the client is still sending (then the client sees a reset).
      socket.write(reply + terminator, () => socket.destroy());
    };
    const consume = (data: Buffer) => {
      state.bytesReceived += data.length;
      streamed += data.length;
      const window = Buffer.concat([tail, data]);
      if (!found && window.includes(eicar)) found = true;
      tail = window.subarray(Math.max(0, window.length - eicar.length + 1));
    };

    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (step !== 'done') {
        if (step === 'command') {
          if (pending.length === 0) break;
          const prefix = String.fromCharCode(pending[0]);
          if (prefix !== 'z' && prefix !== 'n') return answer('UNKNOWN COMMAND');
          terminator = prefix === 'z' ? '\0' : '\n';
          const end = pending.indexOf(terminator);
          if (end < 0) break;
          const command = pending.subarray(1, end).toString('latin1');
          pending = pending.subarray(end + 1);
          state.commands.push(command);
          if (command === 'PING') answer('PONG');
          else if (command === 'VERSION') answer('ClamAV 1.4.0/fake');
          else if (command !== 'INSTREAM') answer('UNKNOWN COMMAND');
          else if (mode === 'closeEarly' && !options.closeAfterBytes) {
            step = 'done';
            socket.destroy();
          } else step = 'length';
        } else if (step === 'length') {
          if (pending.length < 4) break;
          remaining = pending.readUInt32BE(0);
          pending = pending.subarray(4);
          if (remaining === 0) answer(found ? `stream: ${SIGNATURE} FOUND` : 'stream: OK');
          else if (streamed + remaining > streamMaxLength) answer('INSTREAM size limit exceeded. ERROR');
          else step = 'data';
        } else {
          if (pending.length === 0) break;
          const take = Math.min(remaining, pending.length);
          consume(pending.subarray(0, take));
          pending = pending.subarray(take);
          remaining -= take;
          if (remaining === 0) step = 'length';
          if (mode === 'closeEarly' && streamed >= (options.closeAfterBytes ?? 0)) {
            step = 'done';
            socket.destroy();
          }
        }
      }
      if (mode === 'slow' && step !== 'done') {
        socket.pause();
        setTimeout(() => socket.resume(), options.slowDelayMs ?? 5);
      }
    });
  });

  const socketPath = options.unixSocket
    ? join(tmpdir(), `fake-clamd-${process.pid}-${randomBytes(4).toString('hex')}.sock`)
    : undefined;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (socketPath) server.listen(socketPath, resolve);
    else server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const port = socketPath ? 0 : (server.address() as { port: number }).port;

  return {
    address: socketPath ? { socketPath } : { host: '127.0.0.1', port },
    get connections() {
      return state.connections;
    },
    get openConnections() {
      return sockets.size;
    },
    get bytesReceived() {
      return state.bytesReceived;
    },
    commands: state.commands,
    replies: state.replies,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (socketPath) rmSync(socketPath, { force: true });
    },
  };
}
