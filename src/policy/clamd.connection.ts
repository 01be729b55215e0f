import { connect, Socket } from 'node:net';
import type { ClamdAddress } from './clamav-scanner.options';
import { MAX_CLAMD_REPLY_BYTES, replyError, replyText } from './clamd.protocol';
import { ScannerUnavailableError, ScannerUnavailableReason } from './scanner-unavailable.error';

/** Where the exchange is: a reply is only a verdict once everything was sent. */
type Phase = 'connecting' | 'sending' | 'waiting' | 'settled';

/** Time limits of one exchange, in ms. */
export interface ClamdLimits {
  /** From connecting to the reply. */
  timeoutMs: number;
  /** Longest pause of the socket while sending (also while connecting). */
  idleTimeoutMs: number;
}

/** A promise with its settle functions; rejections are pre-handled (nobody may be waiting when one happens). */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * One command's connection to clamd (clamd answers one command per connection, then closes). It turns everything
 * that can go wrong — refused connection, reset, early close, deadline, stalled transfer, an answer that comes
 * while data is still being sent (`INSTREAM size limit exceeded`) — into one `ScannerUnavailableError`, after
 * which every pending and later call rejects with it, the socket is destroyed and `onFailure` runs (so the caller
 * can end a read that waits on its input). Internal to `ClamAvScanner`.
 */
export class ClamdConnection {
  /** Why the exchange failed, once it did. */
  failure: ScannerUnavailableError | undefined;
  private readonly socket: Socket;
  private readonly received: Buffer[] = [];
  private receivedBytes = 0;
  private phase: Phase = 'connecting';
  private readonly deadline: NodeJS.Timeout;
  private readonly connected = deferred<void>();
  private readonly reply = deferred<string>();
  private drainWaiter: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  constructor(
    private readonly address: ClamdAddress,
    limits: ClamdLimits,
    private readonly onFailure: (error: ScannerUnavailableError) => void = () => undefined,
  ) {
    this.deadline = setTimeout(
      () => this.fail('timeout', new Error(`clamd at ${this.where()} gave no answer within ${limits.timeoutMs} ms`)),
      limits.timeoutMs,
    );
    this.socket =
      'socketPath' in address
        ? connect({ path: address.socketPath })
        : connect({ host: address.host, port: address.port });
    // Node's socket timeout is reset by every completed read or write, so it measures exactly a stalled transfer.
    this.socket.setTimeout(limits.idleTimeoutMs);
    this.socket.on('timeout', () =>
      this.fail('timeout', new Error(`clamd at ${this.where()} stalled for ${limits.idleTimeoutMs} ms`)),
    );
    this.socket.on('connect', () => {
      if (this.phase !== 'connecting') return;
      this.phase = 'sending';
      this.connected.resolve();
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // 'end' is clamd closing its side; 'close' also covers a reset. Either may carry a reply without its NUL.
    this.socket.on('end', () => this.onClosed(undefined));
    this.socket.on('close', () => this.onClosed(undefined));
    // Stays attached after settling: a late write error (EPIPE) must not become an uncaught exception.
    this.socket.on('error', (error) => this.onClosed(error));
    this.socket.on('drain', () => {
      const waiter = this.drainWaiter;
      this.drainWaiter = undefined;
      waiter?.resolve();
    });
  }

  /** Resolves once the connection is open. */
  open(): Promise<void> {
    return this.connected.promise;
  }

  /** Write bytes; waits for the socket to drain when its buffer is full, so the input is never read ahead. */
  async send(...buffers: Buffer[]): Promise<void> {
    if (this.failure) throw this.failure;
    // Corked, a chunk's header and data leave in one write (one segment) instead of two.
    this.socket.cork();
    let flowing = true;
    for (const buffer of buffers) flowing = this.socket.write(buffer);
    this.socket.uncork();
    if (flowing) return;
    await new Promise<void>((resolve, reject) => (this.drainWaiter = { resolve, reject }));
  }

  /**
   * Write the last bytes: from here a reply is the verdict, not an interruption. Once they are flushed, the idle
   * limit stops applying — clamd says nothing while it scans, only the deadline bounds that wait.
   */
  finish(last: Buffer): void {
    if (this.failure) throw this.failure;
    this.phase = 'waiting';
    this.socket.write(last, (error) => {
      if (!error && this.phase === 'waiting') this.socket.setTimeout(0);
    });
  }

  /** The reply's text (without the NUL), once clamd gave it after `finish`. */
  answer(): Promise<string> {
    return this.reply.promise;
  }

  /** Close the connection (always called once the caller is done); an exchange still running ends quietly. */
  destroy(): void {
    if (this.phase !== 'settled') {
      const cause = new Error('closed by ClamAvScanner');
      this.settle(new ScannerUnavailableError('connection_lost', { cause }), false);
    }
    clearTimeout(this.deadline);
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'settled') return;
    this.receivedBytes += chunk.length;
    this.received.push(chunk);
    if (this.receivedBytes > MAX_CLAMD_REPLY_BYTES) {
      this.fail('bad_reply', new Error(`clamd at ${this.where()} sent more than ${MAX_CLAMD_REPLY_BYTES} bytes`));
    } else if (chunk.includes(0)) {
      this.onReply();
    }
  }

  /** Closed, reset or failed: what was received is the reply; with nothing received, the exchange failed. */
  private onClosed(error: Error | undefined): void {
    if (this.phase === 'settled') return;
    if (this.receivedBytes > 0) return this.onReply();
    const reason: ScannerUnavailableReason = this.phase === 'connecting' ? 'unreachable' : 'connection_lost';
    const what = error ? error.message : 'closed the connection without answering';
    this.fail(reason, new Error(`clamd at ${this.where()}: ${what}`, { cause: error }));
  }

  private onReply(): void {
    const text = replyText(Buffer.concat(this.received));
    if (this.phase !== 'waiting') return this.settle(replyError(text));
    this.phase = 'settled';
    clearTimeout(this.deadline);
    this.socket.destroy();
    this.reply.resolve(text);
  }

  private fail(reason: ScannerUnavailableReason, cause: Error): void {
    if (this.phase !== 'settled') this.settle(new ScannerUnavailableError(reason, { cause }));
  }

  private settle(error: ScannerUnavailableError, notify = true): void {
    this.phase = 'settled';
    this.failure = error;
    clearTimeout(this.deadline);
    this.socket.destroy();
    this.connected.reject(error);
    this.reply.reject(error);
    this.drainWaiter?.reject(error);
    this.drainWaiter = undefined;
    if (notify) this.onFailure(error);
  }

  private where(): string {
    return 'socketPath' in this.address
      ? `unix:${this.address.socketPath}`
      : `${this.address.host}:${this.address.port}`;
  }
}
