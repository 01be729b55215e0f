import { ACTIVE_STATUSES, UploadSession } from '../sessions/upload-session.model';
import type { CallerContext } from './resumable-upload.types';
import type { UploadEngineContext } from './upload-engine.context';

/**
 * A status read skips its write when the expiry moved forward less than this since the last slide, so a client
 * polling HEAD every second costs reads, not a store write each time. Capped at a tenth of the session lifetime
 * so short lifetimes (tests, tight deployments) still slide on every read that matters.
 */
const MIN_SLIDE_STEP_MS = 60_000;

/**
 * Sliding expiry on status reads (tus HEAD, REST GET): a client asking where its upload stands is alive, so its
 * unfinished session lives another `sessionExpiration` from now — as a chunk does, and as the seed's Redis store
 * resets a key's TTL on every read.
 *
 * The slide is an `advance` at the session's current offset with only `expiresAt` patched: atomic with respect to
 * writers (a chunk that moved the offset first wins, and it slid the expiry itself), and never resurrecting a
 * session that has expired, finished or been aborted (`advance` applies to active sessions only, and an expired
 * one is never passed in). A store failure fails the read like any other store call (503), never "not found".
 */
export class UploadExpirySlider {
  constructor(private readonly ctx: UploadEngineContext) {}

  /**
   * A client's status read of `uploadId` (owner-checked), its expiry slid. With `settle`, a write in flight for an
   * unfinished upload is ended first: the lock is taken with a release request (the engine's request-release
   * model, across instances through the shared locker), so the offset read under it is final until the next
   * write — what the IETF draft asks of offset retrieval (§4.6: an offset sent must be accepted by the next
   * append). The id is checked before the lock is taken, so made-up ids leave no lock behind.
   */
  async read(uploadId: string, caller: CallerContext, settle: boolean): Promise<UploadSession> {
    const seen = await this.ctx.requireSession(uploadId, caller);
    if (!settle || !ACTIVE_STATUSES.includes(seen.status)) return this.slide(seen);
    const lease = await this.ctx.acquire(uploadId, 'status');
    try {
      return await this.slide(await this.ctx.requireSession(uploadId, caller));
    } finally {
      await lease.release();
    }
  }

  /** `session` with its expiry pushed to `now + sessionExpiration` when it is active and not yet expired. */
  async slide(session: UploadSession): Promise<UploadSession> {
    if (!ACTIVE_STATUSES.includes(session.status)) return session;
    const now = Date.now();
    if (session.expiresAt <= now) return session;
    const lifetime = this.ctx.options.sessionExpiration;
    const expiresAt = now + lifetime;
    if (expiresAt - session.expiresAt < Math.min(MIN_SLIDE_STEP_MS, lifetime / 10)) return session;
    const slid = await this.ctx.storeCall(session, 'advance', () =>
      this.ctx.store.advance(session.uploadId, session.uploadedBytes, { expiresAt }),
    );
    // null: a writer changed the session meanwhile (and slid it); what we read is still a truthful answer.
    return slid ?? session;
  }
}
