/**
 * A counting semaphore with FIFO waiters. Caps how many part uploads run at once across every upload of one
 * provider, which is what bounds temp-disk use and socket count (and, with in-memory buffers, memory).
 */
export class Semaphore {
  private available: number;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly permits: number) {
    if (!Number.isInteger(permits) || permits < 1) throw new RangeError('permits must be a positive integer');
    this.available = permits;
  }

  /** Wait for a permit; call the returned function exactly once to give it back. */
  async acquire(): Promise<() => void> {
    if (this.available > 0) {
      this.available--;
    } else {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // Hand the permit straight to the next waiter so a burst of new callers cannot starve it.
      if (next) next();
      else this.available++;
    };
  }
}
