import { VALIBLOB_DEFAULTS } from './vali-blob.defaults';
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
  const options: ResolvedHttpOptions = {
    tus: pick('tus', VALIBLOB_DEFAULTS.tusPath),
    rest: pick('rest', VALIBLOB_DEFAULTS.restPath),
    blobs: pick('blobs', VALIBLOB_DEFAULTS.blobsPath),
    keepRequestTimeout: keep === true,
  };
  return { options, problems };
}
