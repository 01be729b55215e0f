import { InvalidRequestError } from '../../errors/vali-blob.errors';
import type { ConcatRole } from '../../uploads/upload-concatenation';
import { TUS_VERSION } from '../../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import type { HttpExchange } from '../http-exchange';
import { RUFH_ALLOWED_HEADERS, RUFH_EXPOSED_HEADERS } from '../rufh/rufh-protocol';

/** Protocol versions this endpoint speaks, preferred first (`Tus-Version`). */
export const TUS_VERSIONS = [TUS_VERSION];

/** Content type of every tus PATCH body (and of a creation-with-upload POST body). */
export const TUS_CONTENT_TYPE = 'application/offset+octet-stream';

/** Request headers a browser must be allowed to send (CORS preflight). Browsers do not expand `Upload-*`. */
export const TUS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Tus-Resumable',
  'Upload-Checksum',
  'Upload-Concat',
  'Upload-Defer-Length',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Offset',
  'X-HTTP-Method-Override',
  'X-Requested-With',
];

/** Response headers a browser script may read (CORS). */
export const TUS_EXPOSED_HEADERS = [
  'Location',
  'Tus-Checksum-Algorithm',
  'Tus-Extension',
  'Tus-Max-Size',
  'Tus-Resumable',
  'Tus-Version',
  'Upload-Concat',
  'Upload-Defer-Length',
  'Upload-Expires',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Offset',
];

/** Methods of the endpoint (CORS preflight and `Allow`). */
export const TUS_METHODS = ['POST', 'GET', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'];

/** Extensions advertised in `Tus-Extension`; `checksum*` only when at least one algorithm is enabled. */
export function tusExtensions(options: ResolvedValiBlobOptions): string[] {
  const extensions = ['creation', 'creation-with-upload', 'creation-defer-length', 'expiration'];
  if (options.checksumAlgorithms.length > 0) extensions.push('checksum', 'checksum-trailer');
  extensions.push('termination', 'concatenation');
  return extensions;
}

/** `Upload-Expires` value (RFC 9110 IMF-fixdate). */
export function httpDate(epochMs: number): string {
  return new Date(epochMs).toUTCString();
}

/** CORS headers for a response, or none when CORS is off or the origin is not allowed. */
export function corsHeaders(
  options: ResolvedValiBlobOptions,
  exchange: HttpExchange,
  preflight: boolean,
): Record<string, string> {
  const { cors } = options.tus;
  const origin = exchange.header('origin');
  if (cors === false || origin === undefined) return {};
  if (cors !== '*' && !cors.includes(origin)) return {};
  // The IETF draft shares the endpoint: its fields must pass the browser too when it is on.
  const draft = options.tus.ietfDraft;
  const exposed = draft ? [...TUS_EXPOSED_HEADERS, ...RUFH_EXPOSED_HEADERS] : TUS_EXPOSED_HEADERS;
  const allowed = draft ? [...TUS_ALLOWED_HEADERS, ...RUFH_ALLOWED_HEADERS] : TUS_ALLOWED_HEADERS;
  const headers: Record<string, string> = {
    // Echo the origin (not `*`) so requests with credentials work too; `Vary` keeps shared caches honest.
    'Access-Control-Allow-Origin': cors === '*' ? '*' : origin,
    'Access-Control-Expose-Headers': exposed.join(', '),
  };
  if (cors !== '*') headers.Vary = 'Origin';
  if (preflight) {
    headers['Access-Control-Allow-Methods'] = TUS_METHODS.join(', ');
    headers['Access-Control-Allow-Headers'] = allowed.join(', ');
    headers['Access-Control-Max-Age'] = '86400';
  }
  return headers;
}

/** A `Host` / `X-Forwarded-Host` value of the plain shape `name[:port]` or `[ipv6][:port]`, nothing else. */
export function isPlainHost(host: string): boolean {
  return /^[A-Za-z0-9._-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/.test(host);
}

/**
 * URL of the endpoint itself (what `Location` and `Upload-Concat` URLs are built on). Relative by default —
 * the path routing matched (`HttpExchange.routedPath`: never the scheme or authority of an absolute-form
 * request target), so a global prefix or a proxy path is kept; absolute with `tus.baseUrl`, or from
 * `X-Forwarded-Proto`/`-Host` (else `Host`) when `tus.trustForwardedHeaders` is on (only behind a proxy that
 * sets them). A host that is not a plain `name[:port]` is never used.
 */
export function endpointUrl(options: ResolvedValiBlobOptions, exchange: HttpExchange, endpointPath: string): string {
  if (options.tus.baseUrl) return options.tus.baseUrl;
  const path = endpointPath.replace(/\/+$/, '');
  if (options.tus.trustForwardedHeaders) {
    const host = firstValue(exchange.header('x-forwarded-host')) ?? exchange.header('host');
    const proto = firstValue(exchange.header('x-forwarded-proto')) ?? 'http';
    // Only plain host[:port] and http(s): anything else would end up verbatim in a response header.
    if (host && isPlainHost(host) && /^https?$/i.test(proto)) return `${proto.toLowerCase()}://${host}${path}`;
  }
  return path;
}

function firstValue(header: string | undefined): string | undefined {
  const value = header?.split(',')[0].trim();
  return value ? value : undefined;
}

/**
 * The concatenation role an `Upload-Concat` header asks for: none without the header, `partial`, or `final`
 * with the upload ids of `final;<url> <url>` (absolute or relative URLs; the id is the last path segment).
 * Throws 400 on anything else.
 */
export function parseUploadConcat(header: string | undefined): ConcatRole {
  if (header === undefined) return { kind: 'none' };
  const value = header.trim();
  if (value === 'partial') return { kind: 'partial' };
  if (!value.startsWith('final;')) throw new InvalidRequestError('Upload-Concat must be "partial" or "final;<urls>"');
  const urls = value
    .slice('final;'.length)
    .trim()
    .split(/ +/)
    .filter((u) => u !== '');
  if (urls.length === 0) throw new InvalidRequestError('Upload-Concat final needs at least one partial upload URL');
  if (urls.length > 1000) throw new InvalidRequestError('Upload-Concat names more than 1000 partial uploads');
  const ids = urls.map((url) => {
    const path = url.replace(/[?#].*$/, '').replace(/\/+$/, '');
    const id = path.slice(path.lastIndexOf('/') + 1);
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new InvalidRequestError('Upload-Concat names an invalid upload URL');
    return id;
  });
  return { kind: 'final', ids };
}

/** Methods `X-HTTP-Method-Override` may name. */
const OVERRIDABLE = new Set(['POST', 'GET', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The method a request acts as, for both protocols on the endpoint: only a POST may act as another method (as
 * tusd does): the override exists for proxies that block PATCH/DELETE; honouring it on GET/HEAD would let a
 * cacheable or "safe" request change state. 400 for a method the endpoint does not have.
 */
export function effectiveMethod(exchange: HttpExchange, realMethod: string): string {
  const override = realMethod === 'POST' ? exchange.header('x-http-method-override') : undefined;
  if (override === undefined) return realMethod;
  const method = override.trim().toUpperCase();
  if (!OVERRIDABLE.has(method)) throw new InvalidRequestError('X-HTTP-Method-Override names an unsupported method');
  return method;
}
