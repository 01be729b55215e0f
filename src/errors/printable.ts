/**
 * Echo user input in error messages without control characters and with a bounded length (a path or id can be
 * anything a client sent). Internal: not re-exported by `vali-blob.errors.ts`.
 */
export function printable(value: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const clean = String(value).replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
