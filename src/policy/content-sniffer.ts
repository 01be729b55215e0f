import { sniffIsoMedia, sniffZip } from './content-sniffer.containers';
import { classifyText, decodeText } from './content-sniffer.text';

export { isTypeCompatible } from './content-type.compat';
export { normalizeMediaType } from './media-type.normalize';

/**
 * How many leading bytes the sniffer looks at (4 KiB): enough for every signature it knows and for the first ZIP
 * entries of an OOXML package, small enough to hold back from storage until the policy has decided.
 * @publicApi
 */
export const SNIFF_WINDOW = 4096;

/** A signature: the type it gives and whether the window starts with it. */
interface Signature {
  type: string | ((head: Buffer) => string);
  matches(head: Buffer): boolean;
}

/** `bytes` at `offset` (a string is taken as latin1, one byte per character). */
function has(head: Buffer, offset: number, bytes: string | number[]): boolean {
  const wanted = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
  return head.length >= offset + wanted.length && head.subarray(offset, offset + wanted.length).equals(wanted);
}

/**
 * Signatures long or specific enough that text never starts with them (each holds a byte that is not printable
 * ASCII, or a structure text does not have), checked before the text verdict.
 */
const STRONG: readonly Signature[] = [
  { type: 'image/jpeg', matches: (h) => has(h, 0, [0xff, 0xd8, 0xff]) },
  { type: 'image/png', matches: (h) => has(h, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: 'image/gif', matches: (h) => has(h, 0, 'GIF87a') || has(h, 0, 'GIF89a') },
  { type: 'image/webp', matches: (h) => has(h, 0, 'RIFF') && has(h, 8, 'WEBP') },
  { type: 'audio/wav', matches: (h) => has(h, 0, 'RIFF') && has(h, 8, 'WAVE') },
  { type: 'application/pdf', matches: (h) => has(h, 0, '%PDF-') },
  { type: sniffZip, matches: (h) => has(h, 0, 'PK\x03\x04') },
  { type: 'application/zip', matches: (h) => has(h, 0, 'PK\x05\x06') }, // an empty archive: only the end record
  { type: 'application/gzip', matches: (h) => has(h, 0, [0x1f, 0x8b, 0x08]) },
  { type: sniffIsoMedia, matches: (h) => has(h, 4, 'ftyp') && h.length >= 12 },
  { type: 'audio/mpeg', matches: isId3Tag },
  { type: 'application/x-executable', matches: (h) => has(h, 0, [0x7f, 0x45, 0x4c, 0x46]) },
];

/**
 * Signatures so short that text could start with them (`MZ`, an MPEG frame sync that is also a UTF-16 BOM): they
 * count only when the window is not text.
 */
const WEAK: readonly Signature[] = [
  { type: 'application/x-msdownload', matches: (h) => has(h, 0, 'MZ') },
  { type: 'audio/mpeg', matches: isMpegFrame },
];

/**
 * An ID3v2 tag: `ID3`, major version 2–4, a revision that is not 0xFF, and a size in four 7-bit ("syncsafe")
 * bytes — the checks that keep a text file beginning with "ID3" from passing.
 */
function isId3Tag(head: Buffer): boolean {
  if (!has(head, 0, 'ID3') || head.length < 10) return false;
  return head[3] >= 2 && head[3] <= 4 && head[4] !== 0xff && head.subarray(6, 10).every((b) => b < 0x80);
}

/**
 * An MPEG audio frame header (an MP3 without ID3 tag): 11-bit frame sync, and no reserved value in the version,
 * layer, bitrate, sample rate or emphasis fields. Layer bits `00` are refused, which also keeps AAC (ADTS) out.
 */
function isMpegFrame(head: Buffer): boolean {
  if (head.length < 4 || head[0] !== 0xff || (head[1] & 0xe0) !== 0xe0) return false;
  const version = (head[1] >> 3) & 0x3;
  const layer = (head[1] >> 1) & 0x3;
  const bitrate = head[2] >> 4;
  const sampleRate = (head[2] >> 2) & 0x3;
  return version !== 1 && layer !== 0 && bitrate !== 0xf && sampleRate !== 3 && (head[3] & 0x3) !== 2;
}

/** The type a signature gives for this window. */
function typeOf(signature: Signature, head: Buffer): string {
  return typeof signature.type === 'string' ? signature.type : signature.type(head);
}

/**
 * The real type of an upload from its first bytes (at most `SNIFF_WINDOW` are read), or `null` when they match
 * no known format (unknown binary, an empty buffer, a header cut too short to tell).
 *
 * Detects JPEG, PNG, GIF, WebP, PDF, ZIP (and the OOXML, ODF and EPUB types built on it), GZIP, ISO media (MP4,
 * QuickTime, M4A, 3GPP, HEIC, AVIF), MP3, WAV, Windows (`MZ`) and ELF executables, SVG, XML and plain text (UTF-8,
 * or UTF-16 with a BOM). Text in a legacy 8-bit encoding (Windows-1252, Latin-1) is not valid UTF-8 and gives
 * `null`.
 *
 * The signature table is our own rather than the `file-type` package: `file-type` 17 and later is ESM-only while
 * this library is built as CommonJS, v16 (the last CommonJS line) is unmaintained, and neither recognises text,
 * SVG or XML — the formats an upload policy most needs to tell apart from what they claim to be.
 * @publicApi
 */
export function sniffContentType(head: Buffer): string | null {
  const window = head.subarray(0, SNIFF_WINDOW);
  if (window.length === 0) return null;
  const strong = STRONG.find((signature) => signature.matches(window));
  if (strong) return typeOf(strong, window);
  const text = decodeText(window);
  if (text !== null) return classifyText(text);
  const weak = WEAK.find((signature) => signature.matches(window));
  return weak ? typeOf(weak, window) : null;
}
