import { ByteSequence, isByteSequence, parseDictionary } from 'structured-headers';
import { InvalidRequestError } from '../../errors/vali-blob.errors';
import type { ChecksumAlgorithm, ChunkChecksum } from '../../uploads/upload-checksum';
import type { HttpExchange } from '../http-exchange';

/*
 * RFC 9530 digest fields mapped onto the engine's checksums (draft §10): `Content-Digest` of one request's content
 * becomes the chunk checksum the engine verifies before the chunk counts; `Repr-Digest` of the whole
 * representation becomes the sha256 the engine checks before publishing, and is what completed answers carry.
 */

/** RFC 9530 algorithm keys the engine can verify per request, strongest first, with their digest lengths. */
const CONTENT_DIGEST_ALGORITHMS: readonly (readonly [string, ChecksumAlgorithm, number])[] = [
  ['sha-256', 'sha256', 32],
  ['sha', 'sha1', 20],
  ['md5', 'md5', 16],
];

/**
 * The chunk checksum a `Content-Digest` asks for: the strongest listed algorithm that is enabled in
 * `checksumAlgorithms`. `undefined` without the field or when it lists only algorithms the engine does not verify
 * (RFC 9530 lets a recipient ignore those, e.g. `sha-512`). A field that is not a Dictionary of Byte Sequences, or
 * a digest of the wrong length, is a 400 — a checksum the client meant must never be silently dropped.
 */
export function contentDigest(
  exchange: HttpExchange,
  enabled: readonly ChecksumAlgorithm[],
): ChunkChecksum | undefined {
  const members = digestDictionary(exchange, 'Content-Digest');
  if (!members) return undefined;
  for (const [key, algorithm, length] of CONTENT_DIGEST_ALGORITHMS) {
    if (!enabled.includes(algorithm) || !members.has(key)) continue;
    return { algorithm, digest: byteSequence(members.get(key), `Content-Digest ${key}`, length) };
  }
  return undefined;
}

/** The whole-representation sha256 (hex) a `Repr-Digest` announces, or `undefined` (absent, or no `sha-256`). */
export function reprDigestSha256(exchange: HttpExchange): string | undefined {
  const members = digestDictionary(exchange, 'Repr-Digest');
  if (!members?.has('sha-256')) return undefined;
  return byteSequence(members.get('sha-256'), 'Repr-Digest sha-256', 32).toString('hex');
}

/** `Repr-Digest` value for a completed upload's recorded sha256 (hex). */
export function reprDigestValue(sha256Hex: string): string {
  return `sha-256=:${Buffer.from(sha256Hex, 'hex').toString('base64')}:`;
}

function digestDictionary(exchange: HttpExchange, name: string): Map<string, unknown> | undefined {
  const header = exchange.header(name);
  if (header === undefined) return undefined;
  try {
    // Only the member values matter here; parameters on a digest carry nothing the check needs.
    return new Map([...parseDictionary(header)].map(([key, [value]]) => [key, value]));
  } catch {
    throw new InvalidRequestError(`${name} must be a Structured Fields Dictionary (RFC 9530)`);
  }
}

function byteSequence(value: unknown, what: string, length: number): Buffer {
  const sequence = value as ByteSequence;
  if (!isByteSequence(sequence)) throw new InvalidRequestError(`${what} must be a Byte Sequence (:base64:)`);
  const digest = Buffer.from(sequence.base64Value, 'base64');
  if (digest.length !== length) {
    throw new InvalidRequestError(`${what} must be ${length} bytes, got ${digest.length}`);
  }
  return digest;
}
