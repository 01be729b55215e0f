import { normalizeMediaType } from './media-type.normalize';

/* Whether a declared content type agrees with the type sniffed from the bytes (policy `contentType.enforce`). */

/** Formats whose bytes the sniffer recognises: declaring one of these while the bytes match nothing is a lie. */
const SIGNED = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/heic',
  'application/pdf',
  'application/zip',
  'application/gzip',
  'video/mp4',
  'video/quicktime',
  'video/3gpp',
  'video/3gpp2',
  'audio/mp4',
  'audio/mpeg',
  'audio/wav',
  'application/x-msdownload',
  'application/x-executable',
]);

/** Declared types that are ZIP archives underneath (besides the ODF family, matched by prefix). */
const ZIP_BASED = new Set([
  'application/zip',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/java-archive',
  'application/epub+zip',
]);

/** Text formats outside `text/*` (besides `+json`, `+xml` and `+yaml`, matched by suffix). */
const TEXT_LIKE = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-javascript',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/sql',
  'application/graphql',
  'application/x-ndjson',
  'application/x-sh',
  'application/x-httpd-php',
  'application/x-tex',
  'application/x-latex',
  'application/rtf',
  'application/x-subrip',
  'image/svg+xml',
]);

/**
 * Families whose members share one container, so the sniffer cannot (or need not) tell them apart: an audio-only
 * MP4 often carries the generic `isom` brand, iPhone MOV and MP4 are the same box format.
 */
const FAMILIES: readonly ReadonlySet<string>[] = [
  new Set(['video/mp4', 'audio/mp4', 'video/quicktime', 'video/3gpp', 'video/3gpp2']),
];

/**
 * Detected verdicts that name a container or a generic encoding rather than one format: plain text, XML, ZIP,
 * GZIP and ISO media hold countless vendor formats, so a declared type we know nothing about may be right.
 * Every other detected type names exactly one format, and any other declared type contradicts it.
 */
const OPEN = new Set(['text/plain', 'application/xml', 'application/zip', 'application/gzip', ...FAMILIES[0]]);

function isZipBased(type: string): boolean {
  return ZIP_BASED.has(type) || type.startsWith('application/vnd.oasis.opendocument.');
}

function isXmlLike(type: string): boolean {
  return type === 'application/xml' || type.endsWith('+xml');
}

function isTextLike(type: string): boolean {
  return type.startsWith('text/') || TEXT_LIKE.has(type) || /\+(?:json|xml|yaml)$/.test(type);
}

/** Declared types whose bytes we could contradict: those we have a signature for, and text. */
function isKnown(type: string): boolean {
  return SIGNED.has(type) || isZipBased(type) || isTextLike(type);
}

/** Whether declared `declared` and detected `detected` (both normalised, different) are the same kind of file. */
function related(declared: string, detected: string): boolean {
  if (detected === 'text/plain') return isTextLike(declared);
  if (detected === 'application/xml') return isXmlLike(declared) || declared === 'text/plain';
  // An SVG is XML; declared as plain text it is not accepted, since it would be stored as (scriptable) SVG.
  if (detected === 'image/svg+xml') return declared === 'application/xml';
  if (detected === 'application/zip') return isZipBased(declared);
  if (isZipBased(detected)) return declared === 'application/zip';
  return FAMILIES.some((family) => family.has(declared) && family.has(detected));
}

/**
 * Whether a declared content type is consistent with the type sniffed from the bytes (`sniffContentType`). Both
 * are normalised first (`normalizeMediaType`: case, parameters, aliases such as `image/jpg`).
 *
 * - `application/octet-stream` (or an empty declared type) claims nothing and is compatible with anything.
 * - Detected `null` (bytes we do not recognise) contradicts only what we would have recognised: a declared type we
 *   have a signature for (a "PNG" that is no PNG) or a text type (the bytes are not text).
 * - Detected plain text fits any text type (`text/*`, JSON, YAML, XML, SVG…); XML fits XML types and plain text;
 *   SVG fits SVG and XML (not plain text: it would be stored as active SVG content).
 * - ZIP fits every ZIP-based type (OOXML, ODF, JAR, EPUB), and a detected OOXML/ODF/EPUB fits `application/zip`.
 * - MP4, M4A, QuickTime and 3GPP are one family (same box format).
 * - Detected text, XML, ZIP, GZIP and ISO media are containers for many formats: they also fit a declared type we
 *   know nothing about (Windows declares CSV as `application/vnd.ms-excel`). Every other detected type names one
 *   format, so any other declared type is a mismatch (a PDF declared `image/png`).
 * @publicApi
 */
export function isTypeCompatible(declared: string, detected: string | null): boolean {
  const claim = normalizeMediaType(declared);
  if (claim === '' || claim === 'application/octet-stream') return true;
  if (detected === null) return !isKnown(claim);
  const actual = normalizeMediaType(detected);
  if (claim === actual || related(claim, actual)) return true;
  return OPEN.has(actual) && !isKnown(claim);
}
