/* The extension allow/block lists of the upload policy (`validation.allowedExtensions` / `blockedExtensions`). */

/**
 * Extension lists to check a path against (entries with or without a leading dot, any case; a multi-part entry such
 * as `tar.gz` matches those parts in sequence).
 * @publicApi
 */
export interface ExtensionRule {
  /** When given, the name's final extension (or final parts, for `tar.gz`) must be one of these. */
  allowed?: readonly string[];
  /** A name is refused when any of its extensions is one of these (`invoice.exe.pdf` for `exe`). */
  blocked?: readonly string[];
}

/**
 * The verdict of `checkExtension`: accepted, or refused with the offending extension (`null` when the name has none)
 * and a reason that can be shown to the client.
 * @publicApi
 */
export type ExtensionVerdict = { ok: true } | { ok: false; extension: string | null; reason: string };

/** What an extension entry may not contain: path separators, whitespace, NTFS stream colons, controls. */
// eslint-disable-next-line no-control-regex -- control characters are part of what an entry may not hold
const BAD_ENTRY_CHAR = /[/\\:\s\u0000-\u001f\u007f]/;

/** The last segment of a path, with the trailing dots and spaces Windows drops from a name removed. */
function lastName(path: string): string {
  const segment = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  return segment.replace(/[. ]+$/, '');
}

/** The dot-separated parts of a name after its base, lower-cased; the leading dot(s) of a dotfile are its base. */
function partsOf(name: string): string[] {
  const parts = name.replace(/^\.+/, '').split('.');
  return parts
    .slice(1)
    .filter((part) => part !== '')
    .map((part) => part.toLowerCase());
}

/**
 * The extensions of a path's last segment, in order and lower-cased: `a/photo.tar.gz` → `['tar', 'gz']`. Trailing
 * dots and spaces are dropped first, as Windows does when it creates the file (`evil.exe.` and `evil.exe ` are
 * `.exe` files there). A leading dot marks a dotfile, not an extension: `.env` has none, `.env.local` has
 * `['local']` (like Node's `path.extname`). Empty parts (`a..b`) are skipped.
 * @publicApi
 */
export function extensionsOf(path: string): string[] {
  return partsOf(lastName(path));
}

/** A list entry as compared: trimmed, lower-cased, without leading dot; `null` when unusable. */
function normalizeEntry(entry: string): string | null {
  const value = entry.trim().toLowerCase().replace(/^\.+/, '');
  if (value === '' || BAD_ENTRY_CHAR.test(value) || value.split('.').includes('')) return null;
  return value;
}

function entriesOf(list: readonly string[] | undefined): string[][] {
  return (list ?? []).map(normalizeEntry).flatMap((entry) => (entry === null ? [] : [entry.split('.')]));
}

/** Whether `parts` holds `run` contiguously, starting at an index `at` satisfies. */
function findRun(parts: string[], run: string[], at: (index: number) => boolean): boolean {
  for (let i = 0; i + run.length <= parts.length; i++) {
    if (at(i) && run.every((part, j) => parts[i + j] === part)) return true;
  }
  return false;
}

/**
 * The names a path's last segment may stand for: the segment itself and, when it holds a colon, the part before
 * it — on NTFS `evil.exe::$DATA` and `evil.exe:x.jpg` write `evil.exe` (the rest names an alternate data stream).
 */
function namesOf(path: string): string[] {
  const name = lastName(path);
  const colon = name.indexOf(':');
  return colon === -1 ? [name] : [name, name.slice(0, colon).replace(/[. ]+$/, '')];
}

/**
 * Check a path's last segment against extension lists. Blocked: refused when any extension of the name is listed
 * (double extensions such as `invoice.exe.pdf`, and a dotfile's own name: `.htaccess` is refused by `htaccess`, as
 * blocklists are usually written). Allowed: the final extension (or final parts, for `tar.gz`) must be listed; a
 * name without extension is refused. A name with an NTFS stream colon must pass under both readings (`namesOf`).
 * @publicApi
 */
export function checkExtension(path: string, rule: ExtensionRule): ExtensionVerdict {
  const blocked = entriesOf(rule.blocked);
  const allowed = rule.allowed === undefined ? null : entriesOf(rule.allowed);
  for (const name of namesOf(path)) {
    // A dotfile's name counts as an extension for the blocklist (`.htaccess`), not for the allowlist.
    const dotfile = name.startsWith('.') ? name.replace(/^\.+/, '').split('.')[0].toLowerCase() : '';
    const all = dotfile ? [dotfile, ...partsOf(name)] : partsOf(name);
    const hit = blocked.find((run) => findRun(all, run, () => true));
    if (hit) return refused(hit.join('.'), `files with extension ".${hit.join('.')}" are not accepted`);
    if (allowed === null) continue;
    const parts = partsOf(name);
    if (parts.length === 0) return refused(null, 'a file name without an extension is not accepted');
    if (!allowed.some((run) => findRun(parts, run, (i) => i + run.length === parts.length))) {
      const last = parts[parts.length - 1];
      return refused(last, `files with extension ".${last}" are not accepted`);
    }
  }
  return { ok: true };
}

function refused(extension: string | null, reason: string): ExtensionVerdict {
  return { ok: false, extension, reason };
}

/**
 * Validate and normalise an extension list for the options validator: entries are trimmed, lower-cased and lose a
 * leading dot (`.PNG` → `png`), duplicates are dropped; an entry that is not a string, is empty, or holds a slash,
 * backslash, colon, whitespace or an empty part (`tar..gz`) is a problem.
 */
export function normalizeExtensionList(
  list: unknown,
  key = 'policy.validation.allowedExtensions',
): { values: string[]; problems: string[] } {
  if (!Array.isArray(list)) {
    return { values: [], problems: [`${key} must be an array of extensions (got ${JSON.stringify(list)})`] };
  }
  const values = new Set<string>();
  const problems: string[] = [];
  list.forEach((entry: unknown, i) => {
    const value = typeof entry === 'string' ? normalizeEntry(entry) : null;
    if (value === null) problems.push(`${key}[${i}] is not a file extension (got ${JSON.stringify(entry)})`);
    else values.add(value);
  });
  return { values: [...values], problems };
}
