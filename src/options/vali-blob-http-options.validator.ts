import { VALIBLOB_DEFAULTS } from './vali-blob.defaults';
import type { AdminAuthorizeHook } from '../admin/admin-authorize';
import type { ResolvedHttpOptions, ValiBlobHttpOptions } from './vali-blob-http-options.interface';

/** The static `http` option read with its defaults, and what is wrong with it. */
export interface HttpOptionsReading {
  /** The mount options; an invalid entry reads as its default (bootstrap fails on `problems` anyway). */
  options: ResolvedHttpOptions;
  /** Problems, reported at bootstrap together with those of the other options. */
  problems: string[];
}

/** Mount paths: URL path characters only, never `..`. */
const MOUNT_PATH = /^[A-Za-z0-9_\-./]*$/;

/**
 * Read the static `http` option without throwing: the controllers are mounted while the module is defined, but
 * its problems must reach the one bootstrap report of every option problem (see `resolveValiBlobOptions`).
 */
export function readHttpOptions(http: ValiBlobHttpOptions | undefined): HttpOptionsReading {
  const problems: string[] = [];
  if (http !== undefined && (http === null || typeof http !== 'object')) {
    problems.push('http must be an object');
    http = undefined;
  }
  const keep = http?.keepRequestTimeout;
  if (keep !== undefined && typeof keep !== 'boolean') problems.push('http.keepRequestTimeout must be a boolean');
  const pick = (key: 'tus' | 'rest' | 'blobs', fallback: string | false): string | null => {
    const value = http?.[key];
    const byDefault = fallback === false ? null : fallback;
    if (value === undefined) return byDefault;
    if (value === false) return null;
    if (!value || typeof value.path !== 'string' || !MOUNT_PATH.test(value.path) || value.path.includes('..')) {
      problems.push(`http.${key}.path must be a URL path of letters, digits, - _ . /`);
      return byDefault;
    }
    return value.path.replace(/^\/+|\/+$/g, '');
  };
  const admin = readAdmin(http?.admin, problems);
  const options: ResolvedHttpOptions = {
    tus: pick('tus', VALIBLOB_DEFAULTS.tusPath),
    rest: pick('rest', VALIBLOB_DEFAULTS.restPath),
    blobs: pick('blobs', VALIBLOB_DEFAULTS.blobsPath),
    keepRequestTimeout: keep === true,
    admin: admin?.path ?? null,
    adminAuthorize: admin?.authorize ?? null,
  };
  return { options, problems };
}

/** Path of the admin routes when `http.admin` gives none. */
export const DEFAULT_ADMIN_PATH = 'admin/uploads';

/**
 * `http.admin`: mounted only with an `authorize` function (never an unauthenticated admin surface) and a path of
 * its own (at the root it would claim every route of the app). Anything wrong mounts nothing and is reported.
 */
function readAdmin(
  value: ValiBlobHttpOptions['admin'],
  problems: string[],
): { path: string; authorize: AdminAuthorizeHook } | null {
  if (value === undefined || value === false) return null;
  if (!value || typeof value !== 'object') {
    problems.push('http.admin must be false or { path?, authorize }');
    return null;
  }
  const path = value.path ?? DEFAULT_ADMIN_PATH;
  const trimmed = typeof path === 'string' ? path.replace(/^\/+|\/+$/g, '') : '';
  const pathOk = typeof path === 'string' && MOUNT_PATH.test(path) && !path.includes('..') && trimmed !== '';
  if (!pathOk) problems.push('http.admin.path must be a non-empty URL path of letters, digits, - _ . /');
  if (typeof value.authorize !== 'function') {
    problems.push('http.admin.authorize must be a function: the admin routes are never mounted without one');
  }
  return pathOk && typeof value.authorize === 'function' ? { path: trimmed, authorize: value.authorize } : null;
}
