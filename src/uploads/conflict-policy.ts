import { BlobExistsError, InvalidRequestError } from '../errors/vali-blob.errors';
import { validateBlobPath } from '../storage/blob-path';
import type { BlobInfo, CompleteUploadRequest, ResumableState, StorageProvider } from '../storage/storage-provider';

/**
 * What complete does when a blob already exists at the upload's path:
 * - `fail` (default): 409 `BLOB_EXISTS`; the upload stays completable and the existing blob is untouched.
 * - `overwrite`: replace it (what `overwrite: true` means).
 * - `rename`: publish at `name-1.ext`, `name-2.ext`, … (the first free one, each tried atomically).
 */
export type ConflictPolicy = 'fail' | 'overwrite' | 'rename';

/** Every accepted policy, for validation and docs. */
export const CONFLICT_POLICIES: readonly ConflictPolicy[] = ['fail', 'overwrite', 'rename'];

/** Most `name-N` candidates tried by `rename` before answering 409 (bounded: complete must not loop forever). */
export const MAX_RENAME_ATTEMPTS = 100;

/**
 * The policy of a new upload from the caller's `conflict` and legacy `overwrite` flag. `overwrite: true` is
 * `overwrite`; naming both in contradiction is a 400 rather than a guess.
 */
export function resolveConflictPolicy(
  conflict: unknown,
  overwrite: unknown,
  fallback: ConflictPolicy = 'fail',
): ConflictPolicy {
  if (overwrite !== undefined && overwrite !== null && typeof overwrite !== 'boolean') {
    throw new InvalidRequestError('overwrite must be true or false');
  }
  if (conflict === undefined || conflict === null) {
    return overwrite === true ? 'overwrite' : overwrite === false ? 'fail' : fallback;
  }
  if (typeof conflict !== 'string' || !CONFLICT_POLICIES.includes(conflict as ConflictPolicy)) {
    throw new InvalidRequestError(`conflict must be one of ${CONFLICT_POLICIES.join(', ')}`);
  }
  if (overwrite === true && conflict !== 'overwrite') {
    throw new InvalidRequestError(`overwrite: true contradicts conflict: "${conflict}"`);
  }
  if (overwrite === false && conflict === 'overwrite') {
    throw new InvalidRequestError('overwrite: false contradicts conflict: "overwrite"');
  }
  return conflict as ConflictPolicy;
}

/**
 * The `n`-th rename candidate of a path: the counter goes before the last extension of the last segment
 * (`a/photo.tar.gz` → `a/photo.tar-1.gz`, `a/README` → `a/README-1`, `a/.env` → `a/.env-1`).
 */
export function renameCandidate(path: string, n: number): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  // A leading dot is part of the name (dotfile), not an extension.
  if (dot <= 0) return `${dir}${name}-${n}`;
  return `${dir}${name.slice(0, dot)}-${n}${name.slice(dot)}`;
}

/** Where complete published the blob. */
export interface PublishResult {
  blob: BlobInfo;
  /** The final path (differs from the requested one only under `rename`). */
  path: string;
}

/**
 * Publish staged data under a conflict policy. Never check-then-act: `fail` and `rename` rely on the provider's
 * atomic no-replace publish (`overwrite: false`), so of two uploads racing to one new path exactly one wins
 * and the other gets `BlobExistsError` with its staged data kept (still completable).
 */
export async function publishWithPolicy(
  provider: StorageProvider,
  state: ResumableState,
  request: Omit<CompleteUploadRequest, 'overwrite'>,
  policy: ConflictPolicy,
): Promise<PublishResult> {
  if (policy !== 'rename') {
    const blob = await provider.completeUpload(state, { ...request, overwrite: policy === 'overwrite' });
    return { blob, path: request.path };
  }
  for (let n = 0; n <= MAX_RENAME_ATTEMPTS; n++) {
    const path = n === 0 ? request.path : renameCandidate(request.path, n);
    try {
      validateBlobPath(path);
    } catch {
      break; // The name cannot grow any further (path length): no candidate left.
    }
    try {
      const blob = await provider.completeUpload(state, { ...request, path, overwrite: false });
      return { blob, path };
    } catch (error) {
      if (!(error instanceof BlobExistsError)) throw error;
    }
  }
  throw new BlobExistsError(request.path);
}
