import { Worker } from 'node:worker_threads';
import { DIGEST_WORKER_SOURCE } from './digest-worker.script';

/** Reusable batch buffers: each fed byte is copied once into one, which then travels to a worker and back. */
export class DigestBufferPool {
  private readonly free: ArrayBuffer[] = [];

  /** `size` bytes per buffer; at most `keep` idle buffers are kept for reuse. */
  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  /** An idle buffer, or a new one. */
  take(): ArrayBuffer {
    return this.free.pop() ?? new ArrayBuffer(this.size);
  }

  /** Hand a buffer back (one that came back from a worker, or one a state no longer needs). */
  release(buffer: ArrayBuffer): void {
    if (buffer.byteLength === this.size && this.free.length < this.keep) this.free.push(buffer);
  }
}

interface Drain {
  promise: Promise<void>;
  resolve: () => void;
}

/**
 * One digest thread (`DIGEST_WORKER_SOURCE`) seen from the main thread: posts messages, counts the bytes it has
 * not hashed yet (`inflight`), and answers digest requests. When the thread dies every open request answers
 * `null` (the caller reads the blob back instead) and waiting feeders are let go.
 *
 * The thread is `unref`'d while idle so an app can exit without closing the module; it is ref'd while it holds
 * work or owes an answer, so an awaited digest cannot be cut off by the process running out of other work.
 */
export class DigestWorker {
  /** Bytes posted and not yet hashed. */
  inflight = 0;
  /** False once the thread died or was terminated. */
  alive = true;
  private readonly thread: Worker;
  private readonly requests = new Map<number, (hex: string | null) => void>();
  private nextRequest = 1;
  private drain: Drain | null = null;

  /** `maxBacklog`: bytes in flight above which feeders are asked to wait until half of it is hashed. */
  constructor(
    private readonly buffers: DigestBufferPool,
    private readonly maxBacklog: number,
  ) {
    // No inherited execArgv: a worker repeats the process's `-r` preloads (a TypeScript loader under ts-node or
    // swc, APM agents), which cost ~50 MiB of RSS here and nothing the hashing needs.
    this.thread = new Worker(DIGEST_WORKER_SOURCE, { eval: true, execArgv: [] });
    this.thread.unref();
    this.thread.on('message', (message: WorkerReply) => this.onMessage(message));
    // 'error' is followed by 'exit'; both end the worker's states (listening to 'error' also keeps it non-fatal).
    this.thread.on('error', () => this.die());
    this.thread.on('exit', () => this.die());
  }

  /** Post a control message (new, copy, drop); ignored once the thread is gone. */
  post(message: { t: 'new' | 'copy' | 'drop'; h: number; from?: number }): void {
    if (this.alive) this.thread.postMessage(message);
  }

  /** Hand `length` bytes of `buffer` to state `handle`; the buffer belongs to the worker until it comes back. */
  feed(handle: number, buffer: ArrayBuffer, length: number): void {
    if (!this.alive) {
      this.buffers.release(buffer);
      return;
    }
    this.inflight += length;
    this.thread.postMessage({ t: 'data', h: handle, buf: buffer, len: length }, [buffer]);
    this.refresh();
  }

  /** A promise to wait on while too many bytes are in flight; `null` otherwise. */
  backlog(): Promise<void> | null {
    if (!this.alive || this.inflight <= this.maxBacklog) return null;
    if (!this.drain) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drain = { promise, resolve };
    }
    return this.drain.promise;
  }

  /** Hex digest of state `handle` once everything posted before is hashed; `null` when the state is gone. */
  digest(handle: number): Promise<string | null> {
    if (!this.alive) return Promise.resolve(null);
    const request = this.nextRequest++;
    const answer = new Promise<string | null>((resolve) => this.requests.set(request, resolve));
    this.thread.postMessage({ t: 'digest', h: handle, req: request });
    this.refresh();
    return answer;
  }

  /** Stop the thread; open requests answer `null`. */
  async terminate(): Promise<void> {
    if (!this.alive) return;
    this.die();
    await this.thread.terminate();
  }

  private onMessage(message: WorkerReply): void {
    if (message.t === 'ack') {
      this.inflight -= message.len;
      this.buffers.release(message.buf);
      // Half way down, not at the limit: feeders then resume in one go instead of once per batch.
      if (this.drain && this.inflight <= this.maxBacklog / 2) this.letGo();
    } else {
      const resolve = this.requests.get(message.req);
      this.requests.delete(message.req);
      resolve?.(message.hex);
    }
    this.refresh();
  }

  private die(): void {
    if (!this.alive) return;
    this.alive = false;
    for (const resolve of this.requests.values()) resolve(null);
    this.requests.clear();
    this.letGo();
    this.inflight = 0;
    this.thread.unref();
  }

  private letGo(): void {
    const drain = this.drain;
    this.drain = null;
    drain?.resolve();
  }

  private refresh(): void {
    if (!this.alive) return;
    if (this.inflight > 0 || this.requests.size > 0) this.thread.ref();
    else this.thread.unref();
  }
}

type WorkerReply = { t: 'ack'; buf: ArrayBuffer; len: number } | { t: 'digest'; req: number; hex: string | null };
