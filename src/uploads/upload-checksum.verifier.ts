import { ChecksumMismatchError, InvalidRequestError } from '../errors/vali-blob.errors';
import type { ChunkEndReason } from './chunk-meter';
import { ChecksumAlgorithm, ChunkChecksum, createDigest, IncrementalDigest } from './upload-checksum';

/** A chunk's checksum as the engine receives it: declared up front, or read after the body (a trailer). */
export type ChunkChecksumSource = ChunkChecksum | (() => ChunkChecksum | undefined);

/**
 * Checks one chunk against the checksum its client declared. It hashes the body while it streams (its `digests`
 * ride along in the `ChunkMeter`) and decides in `verify`, called by the provider just before it commits the
 * bytes, so a chunk that does not match is discarded and leaves nothing behind.
 */
export class UploadChecksumVerifier {
  /** Digests to feed with every byte of the body. */
  readonly digests: IncrementalDigest[];
  private readonly declared?: ChunkChecksum;
  private readonly deferred?: () => ChunkChecksum | undefined;
  private readonly byAlgorithm = new Map<string, IncrementalDigest>();

  constructor(checksum: ChunkChecksumSource | undefined, enabled: readonly ChecksumAlgorithm[]) {
    this.declared = typeof checksum === 'function' ? undefined : checksum;
    this.deferred = typeof checksum === 'function' ? checksum : undefined;
    if (this.declared) this.byAlgorithm.set(this.declared.algorithm, createDigest(this.declared.algorithm));
    // A trailer checksum names its algorithm only after the body: hash with every enabled one meanwhile.
    if (this.deferred) for (const a of enabled) this.byAlgorithm.set(a, createDigest(a));
    this.digests = [...this.byAlgorithm.values()];
  }

  /**
   * Throw unless the body that ended with `endReason` matches the declared checksum (no checksum: nothing to
   * check). `interruption` is the error for a body the engine stopped reading.
   */
  verify(endReason: ChunkEndReason | null, interruption: () => Error): void {
    const expected = this.declared ?? this.deferred?.();
    if (!expected) return;
    // A body cut short can never match its checksum: discard it.
    if (endReason === 'interrupted') throw interruption();
    const digest = this.byAlgorithm.get(expected.algorithm) ?? null;
    if (!digest && this.deferred) {
      throw new InvalidRequestError(`Checksum algorithm ${expected.algorithm} was not computed`);
    }
    if (endReason !== 'eof' || !digest || !digest.digest().equals(expected.digest)) {
      throw new ChecksumMismatchError(expected.algorithm);
    }
  }
}
