import type { DigestBackend, DigestState } from './digest-state';
import { DigestBufferPool, DigestWorker } from './digest-worker';

/** Bytes gathered before a batch goes to a worker: few messages per GiB, little memory per open chunk. */
const BATCH_BYTES = 256 * 1024;
/** Bytes a worker may have queued before feeders wait (bounds memory when hashing is slower than the network). */
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;

/** A sha256 state that lives in a digest worker; bytes are gathered into batches and hashed there. */
class WorkerDigestState implements DigestState {
  private batch: ArrayBuffer | null = null;
  private filled = 0;
  private disposed = false;

  constructor(
    readonly worker: DigestWorker,
    readonly handle: number,
    private readonly buffers: DigestBufferPool,
  ) {}

  update(data: Uint8Array): void {
    if (this.disposed || !this.worker.alive) return;
    let at = 0;
    while (at < data.length) {
      this.batch ??= this.buffers.take();
      const take = Math.min(this.buffers.size - this.filled, data.length - at);
      new Uint8Array(this.batch, this.filled, take).set(data.subarray(at, at + take));
      this.filled += take;
      at += take;
      if (this.filled === this.buffers.size) this.flush();
    }
  }

  backlog(): Promise<void> | null {
    return this.worker.backlog();
  }

  async hex(): Promise<string | null> {
    if (this.disposed) return null;
    this.flush();
    return this.worker.digest(this.handle);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.batch) this.buffers.release(this.batch);
    this.batch = null;
    this.worker.post({ t: 'drop', h: this.handle });
  }

  /** Send the gathered bytes; messages to one worker stay in order, so a later copy or digest includes them. */
  flush(): void {
    if (!this.batch || this.filled === 0) return;
    const batch = this.batch;
    const filled = this.filled;
    this.batch = null;
    this.filled = 0;
    this.worker.feed(this.handle, batch, filled);
  }
}

/**
 * Whole-file sha256 off the main thread: up to `threads` digest workers, started on first use. Each state stays
 * on the worker that created it (copies too: the state lives there). The main thread only copies each byte once
 * into a batch buffer; the worker hashes while the main thread goes on writing, fsyncing and committing, so the
 * body waits for the hash only when a worker falls `MAX_BACKLOG_BYTES` behind. A worker that dies takes its
 * states with it: they answer `null` and the caller reads the blob back instead.
 */
export class DigestWorkerPool implements DigestBackend {
  private readonly workers: DigestWorker[] = [];
  // A quarter of the backlog kept for reuse: enough for the steady state, little RSS once uploads stop.
  private readonly buffers = new DigestBufferPool(BATCH_BYTES, MAX_BACKLOG_BYTES / BATCH_BYTES / 4);
  private nextWorker = 0;
  private nextHandle = 1;

  /** `threads` ≥ 1: how many worker threads at most. */
  constructor(private readonly threads: number) {}

  create(): DigestState {
    const worker = this.pick();
    const handle = this.nextHandle++;
    worker.post({ t: 'new', h: handle });
    return new WorkerDigestState(worker, handle, this.buffers);
  }

  copy(state: DigestState): DigestState {
    const from = state as WorkerDigestState;
    from.flush();
    const handle = this.nextHandle++;
    from.worker.post({ t: 'copy', h: handle, from: from.handle });
    return new WorkerDigestState(from.worker, handle, this.buffers);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    this.workers.length = 0;
  }

  /** Round robin over the threads, starting them lazily and replacing dead (or closed) ones. */
  private pick(): DigestWorker {
    const index = this.nextWorker++ % this.threads;
    let worker = this.workers[index];
    if (!worker || !worker.alive) {
      worker = new DigestWorker(this.buffers, MAX_BACKLOG_BYTES);
      this.workers[index] = worker;
    }
    return worker;
  }
}
