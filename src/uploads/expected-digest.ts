import type { UploadSession } from '../sessions/upload-session.model';
import { UploadRejectedError } from '../errors/policy.errors';
import { RESERVED_METADATA_PREFIX } from './upload-transport';

/**
 * Metadata key holding the whole-file sha256 (hex) a client announced before uploading (the IETF draft's
 * `Repr-Digest` on creation). Reserved like every `valiblob:` key: clients cannot set it through metadata, and it
 * never reaches the blob's metadata.
 */
export const EXPECTED_SHA256_METADATA_KEY = `${RESERVED_METADATA_PREFIX}sha256`;

/** `metadata` plus the announced whole-file sha256 (lower-case hex). */
export function withExpectedSha256(metadata: Record<string, string>, sha256Hex: string): Record<string, string> {
  return { ...metadata, [EXPECTED_SHA256_METADATA_KEY]: sha256Hex.toLowerCase() };
}

/** The whole-file sha256 the client announced for this upload, if any. */
export function expectedSha256Of(session: Pick<UploadSession, 'metadata'>): string | undefined {
  return session.metadata?.[EXPECTED_SHA256_METADATA_KEY];
}

/**
 * The rejection of an upload whose bytes do not hash to the announced sha256: 400 `REPR_DIGEST_MISMATCH`, final
 * (the upload ends `Rejected`, nothing is published, its data is freed) — resuming cannot repair stored bytes.
 */
export function reprDigestMismatch(expected: string, actual: string): UploadRejectedError {
  return new UploadRejectedError('The uploaded bytes do not match the announced sha-256 digest (Repr-Digest)', {
    status: 400,
    code: 'REPR_DIGEST_MISMATCH',
    details: { expectedSha256: expected, actualSha256: actual },
  });
}
