import { parseItem } from 'structured-headers';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import type { HttpExchange } from '../http-exchange';

/*
 * The IETF "Resumable Uploads for HTTP" draft (draft-ietf-httpbis-resumable-upload) as ValiBlob speaks it on the
 * tus endpoint: the field names, media type, problem types and interop versions, and the parsing of its
 * Structured Fields (RFC 9651, through the `structured-headers` library rather than hand-written parsers).
 */

/**
 * Interop versions this endpoint speaks: 5 (draft -03, tus-js-client `ietf-draft-03`), 6 (drafts -04/-05,
 * tus-js-client `ietf-draft-05`), 7 (drafts -06 to -08) and 8 (drafts -09 to -15, the latest).
 */
export const RUFH_INTEROP_VERSIONS: readonly number[] = [5, 6, 7, 8];

/** The latest draft's interop version: the dialect of answers to requests that name none this server speaks. */
export const LATEST_INTEROP_VERSION = RUFH_INTEROP_VERSIONS[RUFH_INTEROP_VERSIONS.length - 1];

/** The request header that selects the draft on the shared endpoint (and names its interop version). */
export const INTEROP_HEADER = 'upload-draft-interop-version';

/** Media type of an append's content (§6); required from interop 6 on. */
export const PARTIAL_UPLOAD_TYPE = 'application/partial-upload';

/** Problem types the draft registers (§7), sent as `type` of RFC 9457 bodies. */
export const RUFH_PROBLEMS = {
  mismatchingOffset: 'https://iana.org/assignments/http-problem-types#mismatching-upload-offset',
  completedUpload: 'https://iana.org/assignments/http-problem-types#completed-upload',
  inconsistentLength: 'https://iana.org/assignments/http-problem-types#inconsistent-upload-length',
} as const;

/** Request headers a browser must be allowed to send to the draft (CORS preflight), besides the tus ones. */
export const RUFH_ALLOWED_HEADERS = [
  'Upload-Complete',
  'Upload-Draft-Interop-Version',
  'Content-Disposition',
  'Content-Digest',
  'Repr-Digest',
  'Want-Repr-Digest',
];

/** Response headers a browser script may read on draft answers, besides the tus ones. */
export const RUFH_EXPOSED_HEADERS = ['Upload-Complete', 'Upload-Limit', 'Upload-Draft-Interop-Version', 'Repr-Digest'];

/**
 * The interop version a request names, or `null` when it is not one this endpoint speaks (or not an integer).
 * The header's presence alone selects the draft; its value picks the dialect.
 */
export function interopVersionOf(header: string): number | null {
  const value = integerItem(header);
  return value !== undefined && RUFH_INTEROP_VERSIONS.includes(value) ? value : null;
}

/**
 * A Boolean Item field (`Upload-Complete`): `true`/`false`, or `undefined` when absent or not a Boolean — the
 * draft says other values MUST cause the whole field to be ignored (§4.1.2).
 */
export function booleanField(exchange: HttpExchange, name: string): boolean | undefined {
  const header = exchange.header(name);
  if (header === undefined) return undefined;
  const value = itemValue(header);
  return typeof value === 'boolean' ? value : undefined;
}

/**
 * A non-negative Integer Item field (`Upload-Offset`, `Upload-Length`), or `undefined` when absent or anything
 * else — ignored as the draft requires (§4.1.1, §4.1.3).
 */
export function integerField(exchange: HttpExchange, name: string): number | undefined {
  const header = exchange.header(name);
  return header === undefined ? undefined : integerItem(header);
}

function integerItem(header: string): number | undefined {
  const value = itemValue(header);
  // The parser gives Integers and Decimals alike as numbers: `8.0` is a Decimal, not the Integer the draft asks for.
  const integer = /^\s*\d+\s*(;|$)/.test(header);
  return integer && typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function itemValue(header: string): unknown {
  try {
    return parseItem(header)[0];
  } catch {
    return undefined;
  }
}

/** What an `Upload-Limit` announces (§4.1.4). */
export interface UploadLimits {
  /** Largest representation accepted, in bytes. */
  maxSize: number;
  /** Announce `min-size=0` (OPTIONS: "no minimum"). */
  minSize?: number;
  /** Remaining lifetime of the upload resource in seconds (omitted once finished). */
  maxAge?: number;
}

/**
 * The `Upload-Limit` field value for a request's interop version, or `undefined` for interop 5 (the field came
 * with draft -04). Interop 6 named the lifetime `expires`; later drafts `max-age` (renamed in draft -06).
 */
export function uploadLimitValue(version: number, limits: UploadLimits): string | undefined {
  if (version < 6) return undefined;
  const members = [`max-size=${limits.maxSize}`];
  if (limits.minSize !== undefined) members.push(`min-size=${limits.minSize}`);
  if (limits.maxAge !== undefined) members.push(`${version === 6 ? 'expires' : 'max-age'}=${limits.maxAge}`);
  return members.join(', ');
}

/** The limits of the endpoint before an upload exists (OPTIONS), from the module options. */
export function endpointLimits(options: ResolvedValiBlobOptions): UploadLimits {
  return { maxSize: options.maxUploadSize, minSize: 0, maxAge: Math.floor(options.sessionExpiration / 1000) };
}

/** Remaining lifetime in whole seconds of an upload expiring at `expiresAt` (never negative). */
export function remainingSeconds(expiresAt: number): number {
  return Math.max(0, Math.floor((expiresAt - Date.now()) / 1000));
}
