import { UnauthorizedError } from '../errors/vali-blob.errors';

/**
 * Guard of the admin REST routes (`http.admin.authorize`), given the platform request (Express or Fastify).
 * Only `true` lets the request through; anything else is 401 `UNAUTHORIZED`. Throw a `ValiBlobError` for
 * another answer, e.g. `ForbiddenError` (403 `FORBIDDEN`) for a caller who is known but no operator.
 * @publicApi
 */
export type AdminAuthorizeHook = (request: unknown) => boolean | Promise<boolean>;

/** Run the hook; throws `UnauthorizedError` unless it answers exactly `true`. */
export async function authorizeAdmin(hook: AdminAuthorizeHook, request: unknown): Promise<void> {
  // Exactly true: an object (say, an upload authorize hook's `{ ownerId }` reused by mistake) is no admin.
  if ((await hook(request)) !== true) throw new UnauthorizedError('Admin access refused');
}
