import { createHash, Hash } from 'node:crypto';
import type { DigestBackend, DigestState } from './digest-state';

/** A sha256 state hashed on the calling thread (`digestThreads: 0`): no copies, no backlog, the old behaviour. */
class InlineDigestState implements DigestState {
  constructor(readonly hash: Hash) {}

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  backlog(): null {
    return null;
  }

  async hex(): Promise<string> {
    // A copy: the upload may be asked again (a publish that failed after this must be able to retry).
    return this.hash.copy().digest('hex');
  }

  dispose(): void {}
}

/** Hashes on the main thread, in the body's data path. Right for one core; with more, the worker pool is faster. */
export class InlineDigestBackend implements DigestBackend {
  create(): DigestState {
    return new InlineDigestState(createHash('sha256'));
  }

  copy(state: DigestState): DigestState {
    return new InlineDigestState((state as InlineDigestState).hash.copy());
  }

  async close(): Promise<void> {}
}
