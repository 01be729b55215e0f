/**
 * One running sha256 over an upload's bytes, wherever it is computed (main thread or a digest worker). A state
 * never keeps the buffers it is fed: the caller may reuse them as soon as `update` returns.
 */
export interface DigestState {
  /** Feed bytes (copied or hashed before this returns). */
  update(data: Uint8Array): void;
  /**
   * Resolves once feeding may go on; `null` when there is no backlog. A body reader pauses on it, so a hash that
   * falls behind slows the client down instead of growing memory.
   */
  backlog(): Promise<void> | null;
  /** Hex sha256 of everything fed so far; the state stays usable. `null` when the state was lost (worker died). */
  hex(): Promise<string | null>;
  /** Free the state; further calls do nothing. */
  dispose(): void;
}

/** Creates and copies digest states: the inline backend or the worker pool. */
export interface DigestBackend {
  /** A new, empty sha256 state. */
  create(): DigestState;
  /** A new state that starts where `state` stands now (a chunk extends a copy until it is committed). */
  copy(state: DigestState): DigestState;
  /** Release threads and buffers; states created before answer `null` afterwards. */
  close(): Promise<void>;
}
