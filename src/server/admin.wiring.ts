import { ForbiddenError } from '../errors/vali-blob.errors';
import type { ValiBlobHttpOptions } from '../vali-blob.options';
import { expectedBearer, givenBearer, sameBearer } from './bearer-token';
import { parseOnOff } from './env-switch';

/** Where the server mounts the admin routes with `ADMIN=on`. */
export const SERVER_ADMIN_PATH = 'admin/uploads';

/** The admin part of the server's environment: `null` when `ADMIN` is off. */
export interface ServerAdminConfig {
  /** `ADMIN_TOKEN`, else `AUTH_TOKEN`: the bearer token of the admin routes. */
  token: string;
}

/**
 * `ADMIN=on|off` (default off) and `ADMIN_TOKEN` (default `AUTH_TOKEN`). ADMIN=on with no token at all is a
 * problem: the admin routes are never served unauthenticated. An owner token of `AUTH_TOKENS` is never the admin
 * token (an owner would become an operator of every owner's uploads).
 */
export function parseAdminEnv(
  env: NodeJS.ProcessEnv,
  ownerTokens: Array<{ owner: string; token: string }> | null,
  problems: string[],
): ServerAdminConfig | null {
  const on = parseOnOff(env, 'ADMIN', problems);
  if (on === null) return null;
  if (!on) {
    if (env.ADMIN_TOKEN) problems.push('ADMIN_TOKEN is set but ADMIN is not on');
    return null;
  }
  const token = env.ADMIN_TOKEN || env.AUTH_TOKEN || '';
  if (token === '') {
    problems.push('ADMIN=on needs ADMIN_TOKEN (or AUTH_TOKEN): the admin routes are never served without a token');
    return null;
  }
  if (ownerTokens?.some((pair) => pair.token === token)) {
    problems.push('ADMIN_TOKEN must differ from every AUTH_TOKENS token (owners are not admins)');
    return null;
  }
  return { token };
}

/** The `http.admin` option of the server: `Authorization: Bearer <admin token>`, compared in constant time. */
export function adminHttpOption(
  admin: ServerAdminConfig | null,
  ownerTokens: Array<{ owner: string; token: string }> | null,
): Pick<ValiBlobHttpOptions, 'admin'> {
  if (!admin) return {};
  const expected = expectedBearer(admin.token);
  const owners = (ownerTokens ?? []).map(({ token }) => expectedBearer(token));
  const authorize = (request: unknown): boolean => {
    const given = givenBearer(request);
    if (sameBearer(given, expected)) return true;
    // A known owner is authenticated, just not an operator: 403 rather than 401.
    if (owners.some((candidate) => sameBearer(given, candidate)))
      throw new ForbiddenError('Owner tokens are not admin');
    return false;
  };
  return { admin: { path: SERVER_ADMIN_PATH, authorize } };
}
