/**
 * Other spellings clients and operating systems send for the types the sniffer names. Browsers take the type from
 * the OS's extension table, so the same JPEG arrives as `image/jpg` from one machine and `image/jpeg` from another.
 */
const ALIASES: Readonly<Record<string, string>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'image/svg': 'image/svg+xml',
  'image/heif': 'image/heic',
  'audio/mp3': 'audio/mpeg',
  'audio/x-mp3': 'audio/mpeg',
  'audio/mpeg3': 'audio/mpeg',
  'audio/x-mpeg': 'audio/mpeg',
  'audio/x-mpeg-3': 'audio/mpeg',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
  'audio/x-pn-wav': 'audio/wav',
  'audio/x-m4a': 'audio/mp4',
  'audio/m4a': 'audio/mp4',
  'video/x-m4v': 'video/mp4',
  'video/x-quicktime': 'video/quicktime',
  'application/x-gzip': 'application/gzip',
  'application/x-zip-compressed': 'application/zip',
  'application/x-zip': 'application/zip',
  'application/x-pdf': 'application/pdf',
  'application/acrobat': 'application/pdf',
  'text/xml': 'application/xml',
  'application/x-msdos-program': 'application/x-msdownload',
  'application/x-dosexec': 'application/x-msdownload',
  'application/vnd.microsoft.portable-executable': 'application/x-msdownload',
  'application/x-exe': 'application/x-msdownload',
  'application/exe': 'application/x-msdownload',
  'application/x-elf': 'application/x-executable',
};

/**
 * A media type without its parameters, trimmed and lower-cased (`'IMAGE/PNG; charset=x'` → `'image/png'`), with no
 * alias applied. What wildcard patterns are matched against, so `text/*` still matches `text/xml`.
 */
export function baseMediaType(type: string): string {
  const semicolon = type.indexOf(';');
  return (semicolon === -1 ? type : type.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * The canonical spelling of a media type: parameters dropped, trimmed, lower-cased, and known aliases mapped to the
 * name the sniffer uses (`image/jpg` → `image/jpeg`, `audio/x-wav` → `audio/wav`, `text/xml` → `application/xml`),
 * so a declared type and a detected one can be compared with `===`.
 * @publicApi
 */
export function normalizeMediaType(type: string): string {
  const base = baseMediaType(type);
  return ALIASES[base] ?? base;
}
