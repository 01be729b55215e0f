/**
 * Upload ids this instance recently wrote a chunk of for their owner, bounded (the oldest goes first).
 *
 * Why: a chunk takes the free lock before it reads the session (one read saved per chunk), but taking a lock
 * has side effects (a lock row on SQL, a key on Redis). Doing that for ids nobody proved they may write would
 * let anyone grow the lock table with made-up ids. Only ids in this set take the lock first; any other chunk
 * reads and checks the session before it touches the lock.
 */
export class RecentUploads {
  private readonly ids = new Set<string>();

  /** Keep at most `limit` ids. */
  constructor(private readonly limit = 10_000) {}

  /** Whether `uploadId` had a chunk stored through this instance lately. */
  has(uploadId: string): boolean {
    return this.ids.has(uploadId);
  }

  /** Remember `uploadId` as the newest entry. */
  add(uploadId: string): void {
    this.ids.delete(uploadId);
    if (this.ids.size >= this.limit) this.ids.delete(this.ids.values().next().value!);
    this.ids.add(uploadId);
  }
}
