/**
 * Parse a `Range` header for one byte range (RFC 9110 §14.1.2). Returns `null` for anything it does not
 * serve — other units, several ranges, malformed syntax — which callers answer with the whole blob, as the
 * RFC allows. A start at or past `size` is returned as is so the caller can answer 416.
 */
export function parseRangeHeader(header: string, size: number): { start: number; end?: number } | null {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return null;
  const [, from, to] = match;
  if (from === '' && to === '') return null;
  if (from === '') {
    // Suffix range: the last N bytes.
    const length = Number(to);
    if (!Number.isSafeInteger(length) || length === 0) return length === 0 ? { start: size } : null;
    return { start: Math.max(0, size - length) };
  }
  const start = Number(from);
  if (!Number.isSafeInteger(start)) return null;
  if (to === '') return { start };
  const end = Number(to);
  if (!Number.isSafeInteger(end) || end < start) return null;
  return { start, end };
}
