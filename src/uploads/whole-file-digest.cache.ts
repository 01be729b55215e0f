import { createHash, Hash } from 'node:crypto';
import type { UploadSession } from '../sessions/upload-session.model';

/** Most sessions whose incremental whole-file hash is kept in memory between chunks. */
const HASH_CACHE_LIMIT = 10_000;

/**
 * The whole-file sha256 recorded at complete, computed incrementally: uploadId → sha256 of bytes [0, offset), fed
 * by each chunk as it streams, so complete rarely has to read the blob back. Bounded (oldest entry goes first);
 * a miss only costs that read-back.
 */
export class WholeFileDigestCache {
  private readonly hashes = new Map<string, { offset: number; hash: Hash }>();

  /** `enabled` is the `wholeFileChecksum` option. */
  constructor(private readonly enabled: boolean) {}

  /** Partials always record theirs: tus concatenation uses it to prove a partial's blob is unchanged. */
  records(session: Pick<UploadSession, 'partial'>): boolean {
    return this.enabled || session.partial;
  }

  /** Start hashing a new session at offset 0 (when it records a checksum). */
  begin(session: Pick<UploadSession, 'uploadId' | 'partial'>): void {
    if (this.records(session)) this.remember(session.uploadId, 0, createHash('sha256'));
  }

  /** A copy of the hash of bytes [0, offset) to extend with the next chunk; undefined when not cached at `offset`. */
  fork(uploadId: string, offset: number): Hash | undefined {
    const cached = this.hashes.get(uploadId);
    return cached && cached.offset === offset ? cached.hash.copy() : undefined;
  }

  /** Keep `hash` as the hash of bytes [0, offset). */
  remember(uploadId: string, offset: number, hash: Hash): void {
    this.hashes.delete(uploadId);
    if (this.hashes.size >= HASH_CACHE_LIMIT) this.hashes.delete(this.hashes.keys().next().value!);
    this.hashes.set(uploadId, { offset, hash });
  }

  /** Drop what is known about an upload (its bytes changed in a way the cache did not see, or it ended). */
  forget(uploadId: string): void {
    this.hashes.delete(uploadId);
  }

  /**
   * The whole-file sha256 (hex) of a session whose bytes are all stored, or `null` when it records none (unless
   * `always`: the upload policy needs it whatever is recorded). `readBack` opens the bytes (staged or published).
   */
  async sha256(
    session: UploadSession,
    readBack: () => Promise<AsyncIterable<unknown>>,
    options: { always?: boolean } = {},
  ): Promise<string | null> {
    if (!options.always && !this.records(session)) return null;
    const cached = this.hashes.get(session.uploadId);
    // A copy: a publish that fails after this (scanner down, name taken) must be able to ask again.
    if (cached && cached.offset === session.totalSize) return cached.hash.copy().digest('hex');
    // Fallback after a restart or when chunks went to another instance: read the blob back once.
    const hash = createHash('sha256');
    const stream = await readBack();
    for await (const chunk of stream) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }
}
