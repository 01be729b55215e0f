import { Readable } from 'node:stream';
import { IncrementalDigest } from './upload-checksum';

/** Why a chunk body stopped. Only `eof` means the client sent everything it meant to. */
export type ChunkEndReason = 'eof' | 'aborted' | 'idle' | 'interrupted';

/** Options of `ChunkMeter`. */
export interface ChunkMeterOptions {
  /** Most bytes this chunk may carry; one more byte fails the stream with `onExceeded()`. */
  maxBytes: number;
  /** Digests fed with every byte that passes (chunk checksum, whole-file hash). */
  digests: IncrementalDigest[];
  /** End the chunk when the source sends nothing for this long. */
  idleTimeoutMs: number;
  /** Error to fail with when `maxBytes` is crossed. */
  onExceeded: () => Error;
}

/**
 * Sits between a request body and a storage provider. It counts and hashes bytes as they pass (no copies, no
 * buffering beyond one stream buffer), enforces the byte limit, and turns the ways a body can stop early —
 * client disconnect, idle timeout, a newer request asking this one to let go — into a clean end-of-stream,
 * so the provider makes durable exactly the bytes that arrived and the engine decides what to keep.
 */
export class ChunkMeter extends Readable {
  /** Bytes passed through so far. */
  bytes = 0;
  /** Set once the stream ended; `null` while running or after a failure. */
  endReason: ChunkEndReason | null = null;

  private readonly source: Readable;
  private readonly options: ChunkMeterOptions;
  private idleTimer?: NodeJS.Timeout;
  private detached = false;
  /** The consumer asked for more and has not been refused since (`push` returned true). */
  private wanted = false;
  /** Waiting for a digest computed elsewhere to catch up; the source stays paused meanwhile. */
  private throttled = false;

  constructor(source: Readable, options: ChunkMeterOptions) {
    super({ highWaterMark: 64 * 1024 });
    // Consumers see failures through their read (async iteration rethrows); without this listener an error
    // raised while no read is pending would be an unhandled 'error' event.
    this.on('error', noop);
    this.source = source;
    this.options = options;
    if (source.readableEnded || ((source as { complete?: boolean }).complete === true && !source.readable)) {
      // Nothing left to read (an empty body already consumed by the platform).
      this.finish('eof');
      return;
    }
    source.on('data', this.onData);
    // Attaching 'data' starts the flow; hold it until the consumer reads (`_read` resumes), so nothing is
    // counted or fails before a consumer is there to see it.
    source.pause();
    source.once('end', this.onEnd);
    source.once('error', this.onAbort);
    source.once('close', this.onClose);
    this.armIdleTimer();
  }

  /** Stop reading and end the stream as if the body had ended here (what arrived so far is kept). */
  interrupt(): void {
    this.finish('interrupted');
  }

  override _read(): void {
    this.wanted = true;
    if (!this.detached && !this.throttled) this.source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.detach();
    callback(error);
  }

  private readonly onData = (chunk: Buffer | string): void => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.bytes + data.length > this.options.maxBytes) {
      this.detach();
      this.destroy(this.options.onExceeded());
      return;
    }
    this.bytes += data.length;
    for (const digest of this.options.digests) digest.update(data);
    this.armIdleTimer();
    if (!this.push(data)) {
      this.wanted = false;
      this.source.pause();
    }
    this.waitForDigests();
  };

  /**
   * A digest hashed on another thread that fell too far behind pauses the body until it catches up: memory stays
   * bounded and a slow hash slows the client down, as a slow disk does. The idle timer is off meanwhile: the
   * client is not the one stalling.
   */
  private waitForDigests(): void {
    for (const digest of this.options.digests) {
      const backlog = digest.backlog?.();
      if (!backlog) continue;
      this.throttled = true;
      clearTimeout(this.idleTimer);
      this.source.pause();
      void backlog.then(() => {
        this.throttled = false;
        if (this.detached) return;
        this.armIdleTimer();
        if (this.wanted) this.source.resume();
      });
      return;
    }
  }

  private readonly onEnd = (): void => this.finish('eof');

  private readonly onAbort = (): void => this.finish('aborted');

  private readonly onClose = (): void => {
    // 'close' without 'end' means the connection went away mid-body.
    if (!this.source.readableEnded) this.finish('aborted');
  };

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.finish('idle');
      // A stalled client holds a socket and the upload lock: let both go.
      this.source.destroy();
    }, this.options.idleTimeoutMs);
    this.idleTimer.unref?.();
  }

  private finish(reason: ChunkEndReason): void {
    if (this.endReason !== null || this.destroyed) return;
    this.endReason = reason;
    this.detach();
    this.push(null);
  }

  private detach(): void {
    clearTimeout(this.idleTimer);
    if (this.detached) return;
    this.detached = true;
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.off('close', this.onClose);
    // Keep a no-op error listener: an unhandled 'error' on the request after we let go would crash the process.
    this.source.off('error', this.onAbort);
    this.source.on('error', noop);
    this.source.pause();
  }
}

function noop(): void {}
