import { createHash, Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { InvalidRequestError, UnsupportedChecksumAlgorithmError } from '../errors/vali-blob.errors';

/** Per-chunk checksum algorithms the engine can verify (the tus checksum extension's names). */
export const CHECKSUM_ALGORITHMS = ['sha1', 'sha256', 'md5', 'crc32'] as const;

/** One of `CHECKSUM_ALGORITHMS`. */
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** A checksum the client declared for one chunk: algorithm plus the raw digest bytes. */
export interface ChunkChecksum {
  algorithm: ChecksumAlgorithm;
  digest: Buffer;
}

/** Expected digest length in bytes per algorithm (a wrong length can never match: reject it up front). */
const DIGEST_LENGTH: Record<ChecksumAlgorithm, number> = { sha1: 20, sha256: 32, md5: 16, crc32: 4 };

/**
 * Parse `Upload-Checksum: <algorithm> <base64 digest>` (tus checksum extension). Unknown or disabled algorithms
 * are `UNSUPPORTED_CHECKSUM_ALGORITHM` (400), malformed values `INVALID_REQUEST` (400).
 */
export function parseUploadChecksum(header: string, enabled: readonly ChecksumAlgorithm[]): ChunkChecksum {
  const match = /^\s*([A-Za-z0-9-]+) +([A-Za-z0-9+/=]+)\s*$/.exec(header);
  if (!match) throw new InvalidRequestError('Upload-Checksum must be "<algorithm> <base64 digest>"');
  const algorithm = match[1].toLowerCase() as ChecksumAlgorithm;
  if (!enabled.includes(algorithm)) throw new UnsupportedChecksumAlgorithmError(match[1], enabled);
  return { algorithm, digest: decodeDigest(match[2], algorithm) };
}

/** Parse `Content-MD5: <base64 digest>` (RFC 1864). */
export function parseContentMd5(header: string, enabled: readonly ChecksumAlgorithm[]): ChunkChecksum {
  if (!enabled.includes('md5')) throw new UnsupportedChecksumAlgorithmError('md5', enabled);
  return { algorithm: 'md5', digest: decodeDigest(header.trim(), 'md5') };
}

function decodeDigest(value: string, algorithm: ChecksumAlgorithm): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new InvalidRequestError(`The ${algorithm} digest is not valid base64`);
  }
  const digest = Buffer.from(value, 'base64');
  if (digest.length !== DIGEST_LENGTH[algorithm]) {
    throw new InvalidRequestError(`A ${algorithm} digest has ${DIGEST_LENGTH[algorithm]} bytes, got ${digest.length}`);
  }
  return digest;
}

/** Incremental digest over a stream, the same interface for the crypto hashes and CRC32. */
export interface IncrementalDigest {
  update(data: Buffer): void;
  digest(): Buffer;
  /** Set by digests computed elsewhere: a promise to wait on before feeding more (`null`: go on). */
  backlog?(): Promise<void> | null;
}

/** Create an incremental digest for an algorithm. */
export function createDigest(algorithm: ChecksumAlgorithm): IncrementalDigest {
  if (algorithm === 'crc32') {
    let value = 0;
    return {
      update: (data) => {
        value = crc32(data, value);
      },
      digest: () => {
        const out = Buffer.alloc(4);
        out.writeUInt32BE(value >>> 0);
        return out;
      },
    };
  }
  const hash: Hash = createHash(algorithm);
  return { update: (data) => void hash.update(data), digest: () => hash.digest() };
}
