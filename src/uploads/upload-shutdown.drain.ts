import type { LoggerService } from '@nestjs/common';
import type { ChunkMeter } from './chunk-meter';
import type { WriteSlots } from './write-slots';
import { VALIBLOB_DEFAULTS } from '../options/vali-blob.defaults';

/** Longest wait for in-flight chunks to persist during shutdown (`VALIBLOB_DEFAULTS.shutdownDrainMs`). */
export const SHUTDOWN_DRAIN_MS: number = VALIBLOB_DEFAULTS.shutdownDrainMs;

/**
 * Lets an instance stop without failing live uploads. It knows the chunk bodies being read right now and, on
 * shutdown, interrupts each so it persists what it has, then waits (bounded) for them to finish.
 */
export class UploadShutdownDrain {
  /** Chunk bodies being read right now; interrupted on shutdown so each persists what it has. */
  private readonly activeMeters = new Set<ChunkMeter>();

  constructor(
    /** In-flight write cap (`maxConcurrentWrites`) and the shutdown flag. */
    private readonly writeSlots: WriteSlots,
    private readonly logger: Pick<LoggerService, 'warn'>,
  ) {}

  /** Follow a chunk body until `untrack`; one that starts during shutdown is interrupted at once. */
  track(meter: ChunkMeter): void {
    this.activeMeters.add(meter);
    if (this.writeSlots.shuttingDown) meter.interrupt();
  }

  /** The chunk body finished (stored, refused or failed). */
  untrack(meter: ChunkMeter): void {
    this.activeMeters.delete(meter);
  }

  /**
   * Shutdown, step 1 (`app.close()`): in-flight chunks stop reading as if their body ended, store what arrived
   * and advance their offset; the client gets 503 UPLOAD_INTERRUPTED with `Retry-After` and the offset (a status
   * tus clients retry) and resumes after the restart or elsewhere. Writes that arrive from now on get the same
   * 503 before reading anything. Waits for running ones up to a bound so the store is still open while they persist.
   */
  async drain(): Promise<void> {
    this.writeSlots.close();
    for (const meter of this.activeMeters) meter.interrupt();
    const deadline = Date.now() + SHUTDOWN_DRAIN_MS;
    while (this.activeMeters.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const running = this.activeMeters.size;
    if (running > 0) this.logger.warn(`${running} chunk writes still running at shutdown`);
  }
}
