import { baseMediaType, normalizeMediaType } from './media-type.normalize';

/** An RFC 6838 type or subtype name (restricted-name), lower-cased. */
const NAME = '[a-z0-9][a-z0-9!#$&^_.+-]{0,126}';
const PATTERN = new RegExp(`^(?:\\*|\\*/\\*|${NAME}/\\*|${NAME}/${NAME})$`);

/**
 * Whether a media type matches a pattern: `type/subtype`, `type/*`, or the catch-all `*` (also written
 * star-slash-star). Case-insensitive,
 * parameters ignored on both sides, aliases normalised (`image/jpg` matches `image/jpeg`). A wildcard is tried
 * against the type as written and as normalised, so `text/*` still matches `text/xml` (whose canonical name is
 * `application/xml`).
 * @publicApi
 */
export function matchesMediaType(pattern: string, type: string): boolean {
  const wanted = baseMediaType(pattern);
  const base = baseMediaType(type);
  if (!base.includes('/')) return false; // not a media type at all: nothing to match, not even `*`
  if (wanted === '*' || wanted === '*/*') return true;
  if (wanted.endsWith('/*')) {
    const prefix = wanted.slice(0, -1);
    return base.startsWith(prefix) || normalizeMediaType(base).startsWith(prefix);
  }
  return normalizeMediaType(wanted) === normalizeMediaType(base);
}

/**
 * Whether a type is allowed by a list of patterns (see `matchesMediaType`). A missing type (`null`: none declared,
 * nothing detected) is never allowed.
 * @publicApi
 */
export function isTypeAllowed(allowed: readonly string[], type: string | null): boolean {
  if (type === null) return false;
  return allowed.some((pattern) => matchesMediaType(pattern, type));
}

/**
 * The problems with a list of media type patterns, for the options validator (empty when the list is valid).
 * Each entry must be `type/subtype`, `type/*` or the catch-all (parameters are allowed and ignored); a wildcard
 * anywhere else (`ima*ge/png`, a `*` type with a named subtype) or a name without a slash (`image`) is refused
 * rather than silently matching nothing.
 */
export function assertMediaTypePatterns(list: unknown, key = 'policy.validation.allowedContentTypes'): string[] {
  if (!Array.isArray(list)) return [`${key} must be an array of media types (got ${JSON.stringify(list)})`];
  const problems: string[] = [];
  list.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') {
      problems.push(`${key}[${i}] must be a string (got ${JSON.stringify(entry)})`);
    } else if (!PATTERN.test(baseMediaType(entry))) {
      problems.push(`${key}[${i}] "${entry}" is not a media type pattern (type/subtype, type/* or */*)`);
    }
  });
  return problems;
}
