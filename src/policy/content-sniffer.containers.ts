/* Sniffer verdicts that need a look inside a container: ZIP entry names and ISO media (ftyp) brands. */

const ZIP_LOCAL_HEADER = Buffer.from('PK\x03\x04', 'latin1');
/** Fixed part of a ZIP local file header; the entry name follows it. */
const ZIP_HEADER_SIZE = 30;

/** OOXML parts by their top folder: a document that has a `word/` part is a docx, and so on. */
const OOXML_FOLDERS: readonly [string, string][] = [
  ['word/', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['xl/', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  ['ppt/', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
];

/**
 * What an ODF or EPUB `mimetype` entry may name. Only these families are believed: the entry is written by whoever
 * made the file, so an arbitrary value (`application/xhtml+xml`) would let an upload choose its stored type.
 */
const ZIP_MIMETYPE = /^(?:application\/vnd\.oasis\.opendocument\.[a-z0-9.-]{1,60}|application\/epub\+zip)$/;

/**
 * The type of a ZIP archive from the entries within the window: OOXML by its part folders (entries written
 * with a data descriptor carry no sizes, so every local header signature in the window is read rather than walking
 * from one entry to the next), ODF and EPUB by their leading uncompressed `mimetype` entry, `application/zip`
 * otherwise — including an OOXML package whose parts lie past the window.
 */
export function sniffZip(head: Buffer): string {
  const first = mimetypeEntry(head);
  if (first) return first;
  for (let at = head.indexOf(ZIP_LOCAL_HEADER); at !== -1; at = head.indexOf(ZIP_LOCAL_HEADER, at + 4)) {
    if (at + ZIP_HEADER_SIZE > head.length) break;
    const nameLength = head.readUInt16LE(at + 26);
    const name = head.toString(
      'latin1',
      at + ZIP_HEADER_SIZE,
      Math.min(head.length, at + ZIP_HEADER_SIZE + nameLength),
    );
    const ooxml = OOXML_FOLDERS.find(([folder]) => name.startsWith(folder));
    if (ooxml) return ooxml[1];
  }
  return 'application/zip';
}

/** ODF/EPUB: the first entry is `mimetype`, stored (method 0), its content the document's type. */
function mimetypeEntry(head: Buffer): string | null {
  if (head.length < ZIP_HEADER_SIZE || head.readUInt16LE(8) !== 0) return null;
  const nameLength = head.readUInt16LE(26);
  const extraLength = head.readUInt16LE(28);
  const size = head.readUInt32LE(18);
  if (head.toString('latin1', ZIP_HEADER_SIZE, ZIP_HEADER_SIZE + nameLength) !== 'mimetype' || size > 100) return null;
  const start = ZIP_HEADER_SIZE + nameLength + extraLength;
  if (start + size > head.length) return null;
  const value = head.toString('latin1', start, start + size);
  return ZIP_MIMETYPE.test(value) ? value : null;
}

/** Major brands of ISO base media files that are not plain MP4 (brand → type). */
const FTYP_BRANDS: Readonly<Record<string, string>> = {
  'qt  ': 'video/quicktime',
  'M4A ': 'audio/mp4',
  'M4B ': 'audio/mp4',
  'M4P ': 'audio/mp4',
  'F4A ': 'audio/mp4',
  avif: 'image/avif',
  avis: 'image/avif',
  heic: 'image/heic',
  heix: 'image/heic',
  heim: 'image/heic',
  heis: 'image/heic',
  hevc: 'image/heic',
  hevx: 'image/heic',
};

/**
 * The type of an ISO base media file (`ftyp` box at offset 4) from its major brand. `mif1`/`msf1` (generic HEIF)
 * are AVIF when `avif` is among the compatible brands, HEIC otherwise; `3gp*`/`3g2*` are 3GPP; any other brand
 * (`isom`, `mp41`, `mp42`, `avc1`, `dash`, `M4V `, camera vendors' own) is MP4, which is what players treat them as.
 */
export function sniffIsoMedia(head: Buffer): string {
  const brand = head.toString('latin1', 8, 12);
  const known = FTYP_BRANDS[brand];
  if (known) return known;
  if (brand === 'mif1' || brand === 'msf1')
    return compatibleBrands(head).includes('avif') ? 'image/avif' : 'image/heic';
  if (brand.startsWith('3gp')) return 'video/3gpp';
  if (brand.startsWith('3g2')) return 'video/3gpp2';
  return 'video/mp4';
}

/** The compatible brands listed in the ftyp box (those within the window). */
function compatibleBrands(head: Buffer): string[] {
  const boxEnd = Math.min(head.length, head.readUInt32BE(0));
  const brands: string[] = [];
  for (let at = 16; at + 4 <= boxEnd; at += 4) brands.push(head.toString('latin1', at, at + 4));
  return brands;
}
