import type { ConflictPolicy } from '../uploads/conflict-policy';

/**
 * Every action the authorize hook is asked about.
 *
 * @publicApi
 */
export type UploadAction = 'create' | 'write' | 'status' | 'complete' | 'abort' | 'read';

/**
 * What the authorize hook receives. `request` is the platform request (Express or Fastify).
 *
 * Paths are as the client sent them: before tus naming and before owner scope adds the owner's prefix (the hook
 * decides who the caller is; the prefix follows from its answer).
 *
 * @publicApi
 */
export interface AuthorizeContext {
  action: UploadAction;
  request: unknown;
  /** Present for actions on an existing upload. */
  uploadId?: string;
  /** Blob reads: the requested path. `create` over REST: the `path` of the body when it is a string. */
  path?: string;
  /** `create`: the provider named by the client (`undefined` = the default provider). */
  provider?: string;
  /** `create`: true when the client asked to replace an existing blob (`conflict` resolves to `overwrite`). */
  overwrite?: boolean;
  /** `create`: the conflict policy the upload will use at complete (see `ConflictPolicy`). */
  conflict?: ConflictPolicy;
  /** `create` of a tus final upload: the partial upload ids it concatenates. */
  partials?: string[];
}

/**
 * Result of the authorize hook: `false` refuses (401), `true` allows anonymously, an object allows and binds
 * the upload to `ownerId` (other owners then get 404 for it), `{ allow: false, status: 403 }` refuses with 403.
 *
 * @publicApi
 */
export type AuthorizeResult =
  boolean | { ownerId?: string | null } | { allow: false; status?: 401 | 403; message?: string };

/**
 * Hook called on every HTTP request of the built-in routes, before anything is read or written.
 *
 * @publicApi
 */
export type AuthorizeHook = (context: AuthorizeContext) => AuthorizeResult | Promise<AuthorizeResult>;
