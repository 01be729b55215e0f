import { TooManyWritesError, ValiBlobError } from '../errors/vali-blob.errors';

/**
 * The request was cut short because this instance is shutting down (`app.close()`, SIGTERM). What arrived is
 * stored and `expectedOffset` says where to resume. Unlike `UploadInterruptedError` (a newer request for the
 * same upload took over, which must not be retried blindly) this is a transient server condition: 503 with
 * `Retry-After`, a status every tus client retries, so a rolling restart does not fail live uploads.
 */
export class ShutdownInterruptedError extends ValiBlobError {
  constructor(
    public readonly expectedOffset: number,
    public readonly retryAfterSeconds = 1,
  ) {
    const message = 'The server is shutting down; the bytes received were stored, resume at expectedOffset';
    super('UPLOAD_INTERRUPTED', message, 503, { expectedOffset, retryAfterSeconds });
  }
}

/** One taken slot; `release()` is idempotent. */
export interface WriteSlot {
  release(): void;
}

/**
 * Counts chunk writes in flight on this instance and refuses one past `max` with `TooManyWritesError` (503 +
 * `Retry-After`), so slow clients cannot hold every upload lock and file descriptor of the process. It also
 * records shutdown: once `close()` ran, no new write starts (the caller gets `ShutdownInterruptedError`).
 */
export class WriteSlots {
  private inFlight = 0;
  private closed = false;

  constructor(private readonly max: number) {}

  /** Writes in flight right now. */
  get size(): number {
    return this.inFlight;
  }

  /** Whether shutdown began. */
  get shuttingDown(): boolean {
    return this.closed;
  }

  /** Throw when no write could start now (full, or shutting down); `offset` is where the client resumes. */
  assertAvailable(offset: number): void {
    if (this.closed) throw new ShutdownInterruptedError(offset);
    if (this.inFlight >= this.max) throw new TooManyWritesError(1);
  }

  /** Take a slot or throw (see `assertAvailable`). */
  take(offset: number): WriteSlot {
    this.assertAvailable(offset);
    this.inFlight++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
      },
    };
  }

  /** Refuse every write from now on (shutdown). */
  close(): void {
    this.closed = true;
  }
}
