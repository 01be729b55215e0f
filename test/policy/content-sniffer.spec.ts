import { isTypeCompatible, SNIFF_WINDOW, sniffContentType } from '../../src/policy/content-sniffer';

/* Every format from a real minimal header (as the first bytes of a file of that kind look), plus hostile windows. */

const bytes = (...parts: (string | number[] | Buffer)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const u32le = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const u16le = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff];
const u32be = (n: number): number[] => u32le(n).reverse();

/** A ZIP local file header + data, as zip tools write it (stored, or with a data descriptor and zero sizes). */
function zipEntry(name: string, data: Buffer | string, options: { descriptor?: boolean } = {}): Buffer {
  const content = Buffer.from(data);
  const size = options.descriptor ? 0 : content.length;
  const header = bytes('PK\x03\x04', u16le(20), u16le(options.descriptor ? 0x08 : 0), u16le(0), u16le(0), u16le(0));
  const tail = bytes(u32le(0), u32le(size), u32le(size), u16le(name.length), u16le(0), name);
  const descriptor = options.descriptor
    ? bytes('PK\x07\x08', u32le(0), u32le(content.length), u32le(content.length))
    : [];
  return Buffer.concat([header, tail, content, Buffer.from(descriptor)]);
}

const ftyp = (major: string, ...compatible: string[]): Buffer =>
  bytes(u32be(16 + 4 * compatible.length), 'ftyp', major, u32be(0x200), ...compatible, u32be(8), 'mdat');

const JPEG = bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], 'JFIF\0', [1, 1, 0, 0, 1, 0, 1, 0, 0]);
const PNG = bytes([0x89], 'PNG\r\n\x1a\n', u32be(13), 'IHDR', u32be(1), u32be(1), [8, 6, 0, 0, 0]);
const PDF = bytes('%PDF-1.7\n%', [0xe2, 0xe3, 0xcf, 0xd3], '\n1 0 obj\n<< /Type /Catalog >>\nendobj\n');
const DOS_HEADER = bytes(
  'MZ',
  [0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0, 0, 0xb8],
  Buffer.alloc(45),
  u32le(0x80),
);

describe('sniffContentType: one case per format', () => {
  it.each<[string, Buffer, string]>([
    ['JPEG (JFIF)', JPEG, 'image/jpeg'],
    ['PNG', PNG, 'image/png'],
    ['GIF89a', bytes('GIF89a', u16le(1), u16le(1), [0x80, 0, 0]), 'image/gif'],
    ['GIF87a', bytes('GIF87a', u16le(1), u16le(1), [0, 0, 0]), 'image/gif'],
    ['WebP', bytes('RIFF', u32le(26), 'WEBPVP8 ', u32le(14), [0x30, 0x01, 0, 0x9d, 0x01, 0x2a]), 'image/webp'],
    ['WAV', bytes('RIFF', u32le(36), 'WAVEfmt ', u32le(16), u16le(1), u16le(2), u32le(44100)), 'audio/wav'],
    ['PDF', PDF, 'application/pdf'],
    ['ZIP', zipEntry('hello.txt', 'hello'), 'application/zip'],
    ['empty ZIP (end record only)', bytes('PK\x05\x06', Buffer.alloc(18)), 'application/zip'],
    [
      'GZIP',
      bytes([0x1f, 0x8b, 0x08, 0x00], u32le(0), [0x00, 0x03], [0x4b, 0x4c, 0x4a, 0x06, 0x00]),
      'application/gzip',
    ],
    ['MP4 (isom)', ftyp('isom', 'isom', 'iso2', 'avc1', 'mp41'), 'video/mp4'],
    ['MP4 (mp42)', ftyp('mp42', 'mp42', 'mp41'), 'video/mp4'],
    ['MOV (qt)', ftyp('qt  ', 'qt  '), 'video/quicktime'],
    ['M4A', ftyp('M4A ', 'M4A ', 'mp42', 'isom'), 'audio/mp4'],
    ['3GP', ftyp('3gp4', '3gp4', 'isom'), 'video/3gpp'],
    ['HEIC', ftyp('heic', 'mif1', 'heic'), 'image/heic'],
    ['AVIF', ftyp('avif', 'avif', 'mif1', 'miaf'), 'image/avif'],
    ['HEIF mif1 with an avif brand', ftyp('mif1', 'mif1', 'avif'), 'image/avif'],
    ['HEIF mif1 without one', ftyp('mif1', 'mif1', 'heic'), 'image/heic'],
    ['MP3 with ID3v2.4 tag', bytes('ID3', [4, 0, 0, 0, 0, 0x02, 0x01], 'TIT2'), 'audio/mpeg'],
    [
      'MP3 frame (MPEG-1 layer III, 128 kbit/s, 44.1 kHz)',
      bytes([0xff, 0xfb, 0x90, 0x64], Buffer.alloc(32)),
      'audio/mpeg',
    ],
    ['MP3 frame (MPEG-2 layer III)', bytes([0xff, 0xf3, 0x84, 0xc4], Buffer.alloc(32)), 'audio/mpeg'],
    ['Windows executable (MZ)', DOS_HEADER, 'application/x-msdownload'],
    [
      'ELF executable',
      bytes([0x7f], 'ELF', [2, 1, 1, 0], Buffer.alloc(8), u16le(2), u16le(0x3e)),
      'application/x-executable',
    ],
    ['SVG', bytes('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'), 'image/svg+xml'],
    ['XML', bytes('<?xml version="1.0" encoding="UTF-8"?>\n<note><to>x</to></note>'), 'application/xml'],
    ['plain text', bytes('hello, world\n'), 'text/plain'],
    ['UTF-8 CSV', Buffer.from('id;name\r\n1;Zoë\r\n2;日本\r\n', 'utf8'), 'text/plain'],
  ])('%s', (_name, head, type) => {
    expect(sniffContentType(head)).toBe(type);
  });
});

describe('sniffContentType: ZIP-based documents', () => {
  const types = zipEntry('[Content_Types].xml', '<?xml version="1.0"?><Types/>');
  const rels = zipEntry('_rels/.rels', '<Relationships/>');

  it.each([
    ['word/document.xml', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['xl/workbook.xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['ppt/presentation.xml', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
  ])('OOXML by its %s part', (part, type) => {
    expect(sniffContentType(Buffer.concat([types, rels, zipEntry(part, '<x/>')]))).toBe(type);
  });

  it('finds the parts when entries use data descriptors (no sizes in the local header)', () => {
    const head = Buffer.concat([
      zipEntry('[Content_Types].xml', 'x'.repeat(300), { descriptor: true }),
      zipEntry('word/document.xml', '<w/>', { descriptor: true }),
    ]);
    expect(sniffContentType(head)).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
  });

  it('is a plain ZIP when only [Content_Types].xml fits in the window', () => {
    const head = Buffer.concat([zipEntry('[Content_Types].xml', 'x'.repeat(SNIFF_WINDOW)), zipEntry('word/a', '')]);
    expect(sniffContentType(head)).toBe('application/zip');
  });

  it('reads ODF and EPUB types from the leading mimetype entry', () => {
    const odt = 'application/vnd.oasis.opendocument.text';
    expect(sniffContentType(Buffer.concat([zipEntry('mimetype', odt), zipEntry('content.xml', '')]))).toBe(odt);
    expect(sniffContentType(zipEntry('mimetype', 'application/epub+zip'))).toBe('application/epub+zip');
  });

  it('does not let a mimetype entry choose an arbitrary stored type', () => {
    expect(sniffContentType(zipEntry('mimetype', 'application/xhtml+xml'))).toBe('application/zip');
    expect(sniffContentType(zipEntry('mimetype', 'text/html'))).toBe('application/zip');
  });
});

describe('sniffContentType: text, XML and SVG', () => {
  it('finds <svg after a BOM, whitespace, XML declaration, comments and doctype', () => {
    const svg = [
      '\ufeff \n<?xml version="1.0" standalone="no"?>\n<!-- Generator: Illustrator -->\n',
      '<!DOCTYPE note [ <!ENTITY a "b>c"> ]>\n<?xml-stylesheet href="a.css"?>\n<svg\n  viewBox="0 0 1 1"></svg>',
    ].join('');
    expect(sniffContentType(Buffer.from(svg, 'utf8'))).toBe('image/svg+xml');
  });

  it('takes a doctype naming svg as SVG even when <svg lies past the window', () => {
    const head = '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">\n<!--' + 'x'.repeat(5000);
    expect(sniffContentType(Buffer.from(head))).toBe('image/svg+xml');
  });

  it('calls an upper-case <SVG svg (the stricter verdict)', () => {
    expect(sniffContentType(Buffer.from('<SVG onload="alert(1)">'))).toBe('image/svg+xml');
  });

  it('is XML, or text without declaration, when a leading comment outgrows the window', () => {
    const comment = '<!--' + 'x'.repeat(SNIFF_WINDOW) + '--><svg/>';
    expect(sniffContentType(Buffer.from('<?xml version="1.0"?>' + comment))).toBe('application/xml');
    expect(sniffContentType(Buffer.from(comment))).toBe('text/plain');
  });

  it('does not take <svgfoo or a later <svg for SVG', () => {
    expect(sniffContentType(Buffer.from('<?xml version="1.0"?><svgfoo/>'))).toBe('application/xml');
    expect(sniffContentType(Buffer.from('<html><svg></svg></html>'))).toBe('text/plain');
  });

  it('reads UTF-16 text with a BOM', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hello ☃', 'utf16le')]);
    expect(sniffContentType(le)).toBe('text/plain');
    const svg = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<svg/>', 'utf16le')]);
    expect(sniffContentType(svg)).toBe('image/svg+xml');
    const be = Buffer.from('\ufeffhi there', 'utf16le').swap16();
    expect(sniffContentType(be)).toBe('text/plain');
  });

  it('tolerates a multi-byte character cut by the end of the window', () => {
    const cutInWindow = Buffer.concat([Buffer.from('a'.repeat(SNIFF_WINDOW - 2)), Buffer.from('日', 'utf8')]);
    expect(cutInWindow.length).toBe(SNIFF_WINDOW + 1);
    expect(sniffContentType(cutInWindow)).toBe('text/plain');
    const cutHead = Buffer.from('naïve 日本語 😀', 'utf8').subarray(0, -2); // ends inside the emoji
    expect(sniffContentType(cutHead)).toBe('text/plain');
  });

  it('still refuses an invalid sequence before the end', () => {
    expect(sniffContentType(Buffer.from([0x61, 0xc3, 0x28, 0x61]))).toBeNull();
    expect(sniffContentType(Buffer.from([0x61, 0xe0, 0x80, 0x80, 0x61]))).toBeNull(); // overlong
    expect(sniffContentType(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toBeNull(); // encoded surrogate
  });

  it('does not call text with a NUL or many control characters text', () => {
    expect(sniffContentType(Buffer.from('hello\0world'))).toBeNull();
    expect(sniffContentType(Buffer.from('a'.repeat(1000) + '\0'))).toBeNull(); // one NUL is enough
    // ...while a few stray control characters in a long text are tolerated
    expect(sniffContentType(Buffer.from('a'.repeat(1000) + '\x01\x7f\f'))).toBe('text/plain');
    expect(sniffContentType(Buffer.from('ab\x01\x02\x03cd\x04\x05\x06'))).toBeNull();
  });

  it('leaves legacy 8-bit text (Latin-1) unrecognised', () => {
    expect(sniffContentType(Buffer.from('caf\xe9 cr\xe8me', 'latin1'))).toBeNull();
  });
});

describe('sniffContentType: hostile and truncated windows', () => {
  it('answers null for an empty buffer', () => {
    expect(sniffContentType(Buffer.alloc(0))).toBeNull();
  });

  it.each<[string, Buffer]>([
    ['JPEG cut to 2 bytes', bytes([0xff, 0xd8])],
    ['PNG cut to 4 bytes', PNG.subarray(0, 4)],
    ['RIFF without form type', bytes('RIFF', u32le(36))],
    ['ftyp box cut before its brand', bytes(u32be(24), 'ftyp')],
    ['ID3 tag cut short', bytes('ID3', [4, 0, 0])],
    ['ID3 with non-syncsafe size', bytes('ID3', [4, 0, 0, 0xff, 0xff, 0xff, 0xff])],
    ['ID3 with an unknown major version', bytes('ID3', [1, 0, 0, 0, 0, 0x02, 0x01], 'TIT2')],
    ['MPEG frame with reserved version', bytes([0xff, 0xeb, 0x90, 0x64])],
    ['MPEG frame with reserved emphasis', bytes([0xff, 0xfb, 0x90, 0x66])],
    ['AAC ADTS frame (layer bits 00)', bytes([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc])],
    ['MPEG frame with reserved bitrate', bytes([0xff, 0xfb, 0xf0, 0x64])],
    ['MPEG frame with reserved sample rate', bytes([0xff, 0xfb, 0x9c, 0x64])],
    ['unknown binary', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) % 256))],
  ])('answers null for %s', (_name, head) => {
    expect(sniffContentType(head)).toBeNull();
  });

  it('still calls a ZIP cut inside its first header, or with a name running past the window, a ZIP', () => {
    expect(sniffContentType(bytes('PK\x03\x04', u16le(20)))).toBe('application/zip');
    const longName = bytes('PK\x03\x04', Buffer.alloc(22), u16le(0xffff), u16le(0), 'word/');
    expect(sniffContentType(longName)).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(sniffContentType(ftyp('mif1').subarray(0, 12))).toBe('image/heic');
  });

  it('does not take text that starts like a short signature for it', () => {
    expect(sniffContentType(Buffer.from('MZ is the code of Mozambique\n'))).toBe('text/plain');
    expect(sniffContentType(Buffer.from('ID3 tags explained\n'))).toBe('text/plain');
    expect(sniffContentType(Buffer.from('PK is a good start\n'))).toBe('text/plain');
  });

  it('reads only the first SNIFF_WINDOW bytes', () => {
    expect(SNIFF_WINDOW).toBe(4096);
    const head = Buffer.concat([Buffer.from('a'.repeat(SNIFF_WINDOW)), Buffer.alloc(10)]);
    expect(sniffContentType(head)).toBe('text/plain');
  });

  it('catches a PDF named .png: the bytes say PDF, and PDF does not fit a declared image/png', () => {
    const detected = sniffContentType(PDF);
    expect(detected).toBe('application/pdf');
    expect(isTypeCompatible('image/png', detected)).toBe(false);
    expect(isTypeCompatible('IMAGE/PNG; charset=x', sniffContentType(PNG))).toBe(true);
  });

  it('catches an executable declared as an image', () => {
    expect(isTypeCompatible('image/jpeg', sniffContentType(DOS_HEADER))).toBe(false);
  });
});
