import { TextDecoder } from 'node:util';

/* Text verdicts for the sniffer: plain text, XML and SVG, decided on the decoded window. */

/** Control characters tolerated in text: tab, line feed, vertical tab, form feed, carriage return, escape (ANSI). */
const TEXT_CONTROLS = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b]);

/**
 * Share of other control characters a text may hold: a few stray ones (a pasted form feed, a DEL) do not make a
 * log binary, while real binary formats have far more (length fields, offsets, compressed data).
 */
const MAX_CONTROL_RATIO = 0.02;

/**
 * The window decoded as text, or `null` when it is not text: UTF-8 (BOM optional) or UTF-16 with a BOM, without
 * NUL and mostly printable. A multi-byte character cut by the end of the window is ignored (streaming decode), not
 * taken for invalid data: the window ends wherever 4 KiB ends.
 */
export function decodeText(head: Buffer): string | null {
  let text: string;
  try {
    text = decoderFor(head).decode(head, { stream: true });
  } catch {
    return null; // invalid byte sequence: binary, or a legacy 8-bit encoding we do not guess
  }
  let controls = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) return null;
    if ((code < 0x20 && !TEXT_CONTROLS.has(code)) || (code >= 0x7f && code <= 0x9f)) controls++;
  }
  return controls <= text.length * MAX_CONTROL_RATIO ? text : null;
}

/** UTF-16 only with a byte order mark (without one it cannot be told from binary); UTF-8 otherwise. */
function decoderFor(head: Buffer): TextDecoder {
  // `fatal`: an invalid sequence throws instead of becoming U+FFFD, which is how binary data is recognised.
  if (head[0] === 0xff && head[1] === 0xfe) return new TextDecoder('utf-16le', { fatal: true });
  if (head[0] === 0xfe && head[1] === 0xff) return new TextDecoder('utf-16be', { fatal: true });
  return new TextDecoder('utf-8', { fatal: true }); // strips a UTF-8 BOM itself
}

/** What may precede the root element of an XML document, each matched at the current position. */
const PROLOG: readonly { start: string; end: string }[] = [
  { start: '<?', end: '?>' }, // XML declaration, stylesheet processing instructions
  { start: '<!--', end: '-->' },
];

/**
 * Classify decoded text: SVG when the first element (after an optional XML declaration, processing instructions,
 * comments and doctype) is `<svg`, or the doctype names svg; XML when it starts with an XML declaration; plain text
 * otherwise. A prolog the window cuts short gives XML when a declaration was seen, plain text when not (an SVG
 * whose leading comment outgrows 4 KiB — its declared type is still accepted, see `isTypeCompatible`).
 */
export function classifyText(text: string): string {
  let rest = text.trimStart();
  const declared = /^<\?xml[\s?]/.test(rest);
  const verdict = declared ? 'application/xml' : 'text/plain';
  for (;;) {
    const prolog = PROLOG.find((p) => rest.startsWith(p.start));
    if (prolog) {
      const end = rest.indexOf(prolog.end, prolog.start.length);
      if (end === -1) return verdict;
      rest = rest.slice(end + prolog.end.length).trimStart();
      continue;
    }
    if (/^<!doctype\s/i.test(rest)) {
      if (/^<!doctype\s+svg[\s>]/i.test(rest)) return 'image/svg+xml';
      const end = doctypeEnd(rest);
      if (end === -1) return verdict;
      rest = rest.slice(end).trimStart();
      continue;
    }
    // Case-insensitive on purpose: a lenient renderer may accept `<SVG`, and calling it SVG only makes it stricter.
    if (/^<svg(?:[\s>/]|$)/i.test(rest)) return 'image/svg+xml';
    return verdict;
  }
}

/** Index just past a doctype, whose internal subset (`[...]`) may itself contain `>`; -1 when it is cut short. */
function doctypeEnd(text: string): number {
  const bracket = text.indexOf('[');
  const close = text.indexOf('>');
  if (bracket !== -1 && (close === -1 || bracket < close)) {
    const subsetEnd = text.indexOf(']', bracket);
    if (subsetEnd === -1) return -1;
    const after = text.indexOf('>', subsetEnd);
    return after === -1 ? -1 : after + 1;
  }
  return close === -1 ? -1 : close + 1;
}
