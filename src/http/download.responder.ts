import { sanitizeFileName } from '../storage/blob-path';
import type { BlobInfo, ByteRange, StorageProvider } from '../storage/storage-provider';
import { isHeaderSafe } from '../uploads/content-type';
import { parseRangeHeader } from './blobs/range-header';
import type { HttpExchange } from './http-exchange';

/** A UTF-16 surrogate without its pair (REST metadata can hold one); encodeURIComponent would throw on it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A stored blob to send, found by the caller (`stat` answered `info`). */
export interface Download {
  /** The provider holding the blob. */
  provider: StorageProvider;
  /** The stored path (as the provider knows it). */
  path: string;
  /** What `provider.stat(path)` answered. */
  info: BlobInfo;
  /** Name offered in `Content-Disposition` (sanitised here); default: the last segment of `info.path`. */
  fileName?: string;
  /** Headers every answer carries, the 416 included (tus: `Tus-Resumable`, CORS). */
  headers?: Record<string, string | number>;
  /** HEAD: the headers of the whole blob, no body (a range past the end still answers 416). */
  headOnly?: boolean;
}

/**
 * The one download path (tus `GET /files/:id` and the blob route's GET/HEAD): single-range support
 * (206; 416 for a range starting past the end; anything else the whole blob, as RFC 9110 allows), the
 * validators `ETag` and `Last-Modified`, and the headers that keep untrusted content from running on this
 * origin. The stream is awaited here and destroyed on every failure (`HttpExchange.stream`), so no file
 * descriptor outlives the request; an error before the body starts rejects for the caller's error answer.
 */
export async function respondWithDownload(exchange: HttpExchange, download: Download): Promise<void> {
  const { provider, path, info } = download;
  const base = download.headers ?? {};
  const headers = { ...base, ...downloadHeaders(info, download.fileName) };
  const rangeHeader = exchange.header('range');
  let range: ByteRange | undefined = rangeHeader ? (parseRangeHeader(rangeHeader, info.size) ?? undefined) : undefined;
  if (range && range.start >= info.size) {
    const body = { statusCode: 416, code: 'INVALID_RANGE', message: 'Range not satisfiable' };
    return exchange.json(416, body, { ...base, 'Content-Range': `bytes */${info.size}` });
  }
  // A range covering the whole blob is the whole blob: 200, not 206.
  if (range && range.start === 0 && (range.end ?? info.size - 1) >= info.size - 1) range = undefined;
  if (download.headOnly) return exchange.empty(200, { ...headers, 'Content-Length': info.size });
  const result = await provider.get(path, range);
  if (result.range) {
    const { start, end } = result.range;
    headers['Content-Length'] = end - start + 1;
    headers['Content-Range'] = `bytes ${start}-${end}/${info.size}`;
    return exchange.stream(206, headers, result.stream);
  }
  headers['Content-Length'] = info.size;
  return exchange.stream(200, headers, result.stream);
}

/** Headers of every successful download (GET and HEAD). */
function downloadHeaders(info: BlobInfo, fileName: string | undefined): Record<string, string | number> {
  // A type stored by another writer (or before create validated it) that cannot be a header is not sent.
  const stored = info.contentType;
  const headers: Record<string, string | number> = {
    'Content-Type': stored && isHeaderSafe(stored) ? stored : 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Last-Modified': new Date(info.lastModified).toUTCString(),
    // Uploaded content is untrusted: never let a browser render it on this origin.
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "sandbox; default-src 'none'",
    'Content-Disposition': attachment(fileName ?? info.path.split('/').pop() ?? 'file'),
  };
  if (info.etag && isHeaderSafe(info.etag)) headers.ETag = info.etag;
  return headers;
}

/** `Content-Disposition: attachment` naming `name`, sanitised and percent-encoded (RFC 6266 / RFC 8187). */
function attachment(name: string): string {
  const printable = name.replace(LONE_SURROGATE, '\uFFFD');
  return `attachment; filename*=UTF-8''${encodeURIComponent(sanitizeFileName(printable))}`;
}
