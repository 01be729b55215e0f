import { ForbiddenError, UnauthorizedError } from '../errors/vali-blob.errors';
import { validateBlobPath } from '../storage/blob-path';
import type { ResolvedValiBlobOptions } from '../vali-blob.options';

/**
 * Owner ids accepted under owner scope: one safe path segment (never `.`/`..`, no `/`, `\`, `%`, control
 * characters or spaces), at most 128 characters, starting with a letter or digit.
 */
export const OWNER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

/** Whether a value is an owner id that can name a path segment. */
export function isSafeOwnerId(value: unknown): value is string {
  return typeof value === 'string' && OWNER_ID_PATTERN.test(value);
}

/**
 * One caller's view of the blob namespace. Under owner scope the paths a client sends and sees are relative to
 * its owner's prefix; the engine and providers only ever see stored (prefixed) paths. Without owner scope it is
 * the identity. Built once per request from the authorize hook's answer.
 */
export class OwnerSpace {
  /** The identity space (owner scope off). */
  static readonly unscoped = new OwnerSpace('');

  private constructor(
    /** Storage prefix of this space (`''` when unscoped), always ending with `/` otherwise. */
    readonly prefix: string,
  ) {}

  /**
   * The space of `owner`. Under owner scope an anonymous caller has no space (401): sharing one "anonymous"
   * space would let every unauthenticated client read and replace every other one's blobs.
   */
  static of(options: Pick<ResolvedValiBlobOptions, 'ownerScope'>, owner: string | null | undefined): OwnerSpace {
    if (!options.ownerScope) return OwnerSpace.unscoped;
    if (owner === null || owner === undefined) {
      throw new UnauthorizedError('This endpoint needs an authenticated owner');
    }
    if (!isSafeOwnerId(owner)) throw new ForbiddenError('The owner id is not a safe path segment');
    const prefix = options.ownerScope.prefix(owner);
    // A prefix function is server code: a bad one is a programming error, reported as such (500), never guessed at.
    if (typeof prefix !== 'string' || !prefix.endsWith('/')) {
      throw new Error(`ownerScope.prefix must return a path ending with "/" (got ${JSON.stringify(prefix)})`);
    }
    try {
      validateBlobPath(prefix.slice(0, -1));
    } catch (error) {
      // Bootstrap tries the function on sample ids; one that fails only for some owner is still server code:
      // a 500 (logged with its stack), never a 400 that would tell the client its request was wrong.
      throw new Error(`ownerScope.prefix returned an invalid path for an owner: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new OwnerSpace(prefix);
  }

  /** Stored path of a client path: validated on its own first, so `..` can never climb out of the prefix. */
  toStored(clientPath: unknown): string {
    const path = validateBlobPath(clientPath);
    return this.prefix === '' ? path : validateBlobPath(this.prefix + path);
  }

  /** Whether a stored path lies inside this space. */
  contains(storedPath: string): boolean {
    return storedPath.startsWith(this.prefix);
  }

  /** Client path of a stored path inside this space. */
  toClient(storedPath: string): string {
    if (!this.contains(storedPath)) throw new Error("Stored path is outside the caller's owner space");
    return storedPath.slice(this.prefix.length);
  }

  /** A session view (or anything with a `path`) with its path as the client sees it. */
  view<T extends { path: string }>(value: T): T {
    return this.prefix === '' ? value : { ...value, path: this.toClient(value.path) };
  }

  /** Error text with this space's prefix removed, so answers never show the storage layout. */
  message(text: string): string {
    return this.prefix === '' ? text : text.split(this.prefix).join('');
  }
}

/**
 * Engine-side guard: an upload bound to an owner under owner scope must target that owner's space. The HTTP
 * routes build paths through `OwnerSpace`; this catches in-process callers that pass an owner but forgot it.
 */
export function assertInOwnerSpace(
  options: Pick<ResolvedValiBlobOptions, 'ownerScope'>,
  owner: string | null | undefined,
  path: string,
): void {
  if (!options.ownerScope || typeof owner !== 'string') return;
  if (!OwnerSpace.of(options, owner).contains(path)) throw new ForbiddenError("The path is outside the owner's space");
}
