import type { UploadSession } from '../sessions/upload-session.model';
import type { DigestBackend, DigestState } from './digest/digest-state';
import { DigestWorkerPool } from './digest/digest-worker.pool';
import { InlineDigestBackend } from './digest/inline-digest.backend';

const MAIN_THREAD = new InlineDigestBackend();

/** Most sessions whose incremental whole-file hash is kept between chunks. */
const HASH_CACHE_LIMIT = 10_000;

/**
 * The whole-file sha256 recorded at complete, computed incrementally: uploadId → sha256 state of bytes
 * [0, offset), fed by each chunk as it streams, so complete rarely has to read the blob back. Where the hashing
 * runs is the backend's business (a worker pool by default, so the body never waits for it). Bounded (oldest
 * entry goes first); a miss only costs that read-back.
 */
export class WholeFileDigestCache {
  private readonly states = new Map<string, { offset: number; state: DigestState }>();

  /** The cache for the `wholeFileChecksum` and `digestThreads` options (0 threads: hash on the main thread). */
  static create(enabled: boolean, threads: number): WholeFileDigestCache {
    return new WholeFileDigestCache(enabled, threads > 0 ? new DigestWorkerPool(threads) : MAIN_THREAD);
  }

  /** `enabled` is the `wholeFileChecksum` option. */
  constructor(
    private readonly enabled: boolean,
    private readonly backend: DigestBackend,
  ) {}

  /** Partials always record theirs: tus concatenation uses it to prove a partial's blob is unchanged. */
  records(session: Pick<UploadSession, 'partial'>): boolean {
    return this.enabled || session.partial;
  }

  /** Start hashing a new session at offset 0 (when it records a checksum). */
  begin(session: Pick<UploadSession, 'uploadId' | 'partial'>): void {
    if (this.records(session)) this.remember(session.uploadId, 0, this.backend.create());
  }

  /**
   * A copy of the state of bytes [0, offset) to extend with the next chunk; undefined when not cached at
   * `offset`. The caller hands it to `remember` once the chunk is committed, or disposes of it.
   */
  fork(uploadId: string, offset: number): DigestState | undefined {
    const cached = this.states.get(uploadId);
    return cached && cached.offset === offset ? this.backend.copy(cached.state) : undefined;
  }

  /** Keep `state` as the hash of bytes [0, offset). */
  remember(uploadId: string, offset: number, state: DigestState): void {
    this.forget(uploadId);
    if (this.states.size >= HASH_CACHE_LIMIT) this.forget(this.states.keys().next().value!);
    this.states.set(uploadId, { offset, state });
  }

  /** Free a state `fork` returned unless `remember` kept it (the chunk failed or was not committed whole). */
  release(uploadId: string, state: DigestState): void {
    if (this.states.get(uploadId)?.state !== state) state.dispose();
  }

  /** Drop what is known about an upload (its bytes changed in a way the cache did not see, or it ended). */
  forget(uploadId: string): void {
    this.states.get(uploadId)?.state.dispose();
    this.states.delete(uploadId);
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
    const cached = this.states.get(session.uploadId);
    // The state stays: a publish that fails after this (scanner down, name taken) must be able to ask again.
    const known = cached && cached.offset === session.totalSize ? await cached.state.hex() : null;
    if (known !== null) return known;
    // After a restart, when chunks went to another instance, or when a digest worker died: read the blob back
    // (on the main thread only if the worker pool failed on it too).
    return (await hashBlob(this.backend, readBack)) ?? (await hashBlob(MAIN_THREAD, readBack))!;
  }

  /** Stop the backend's threads (module shutdown). */
  close(): Promise<void> {
    return this.backend.close();
  }
}

/** sha256 of the bytes `readBack` streams, through `backend`; `null` when the backend lost the state. */
async function hashBlob(
  backend: DigestBackend,
  readBack: () => Promise<AsyncIterable<unknown>>,
): Promise<string | null> {
  const state = backend.create();
  try {
    for await (const chunk of await readBack()) {
      state.update(chunk as Buffer);
      await state.backlog();
    }
    return await state.hex();
  } finally {
    state.dispose();
  }
}
