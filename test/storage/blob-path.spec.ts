import { sanitizeFileName, validateBlobPath } from '../../src/storage/blob-path';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('validateBlobPath: limits in UTF-8 bytes, well-formed Unicode only', () => {
  it('accepts a 255-byte segment and a 1024-byte path, refuses one byte more', () => {
    const segment = '界'.repeat(85);
    expect(bytes(segment)).toBe(255);
    expect(validateBlobPath(`a/${segment}`)).toBe(`a/${segment}`);
    const invalid = expect.objectContaining({ code: 'INVALID_PATH', status: 400 });
    expect(() => validateBlobPath(`a/${segment}x`)).toThrow(invalid);
    // 86 CJK characters: 86 UTF-16 units (fine by length) but 258 bytes.
    expect(() => validateBlobPath(`${'界'.repeat(86)}`)).toThrow(expect.objectContaining({ code: 'INVALID_PATH' }));

    const path = Array.from({ length: 4 }, () => 'é'.repeat(127)).join('/') + '/' + 'x'.repeat(4);
    expect(bytes(path)).toBe(1024);
    expect(validateBlobPath(path)).toBe(path);
    expect(() => validateBlobPath(`${path}y`)).toThrow(expect.objectContaining({ code: 'INVALID_PATH' }));
  });

  it('refuses lone surrogates anywhere, accepts paired ones', () => {
    for (const bad of ['a/\ud800', '\udc00x', 'a/b\ud83d/c', 'x\ud83d']) {
      expect(() => validateBlobPath(bad)).toThrow(expect.objectContaining({ code: 'INVALID_PATH', status: 400 }));
    }
    expect(validateBlobPath('emoji/😀.png')).toBe('emoji/😀.png');
  });
});

describe('sanitizeFileName: cut by UTF-8 bytes at a character boundary, keeping the extension', () => {
  it('turns 100 CJK characters into a valid segment of at most 200 bytes, extension kept', () => {
    const name = `${'文'.repeat(100)}.pdf`;
    const clean = sanitizeFileName(name);
    expect(bytes(clean)).toBeLessThanOrEqual(200);
    expect(clean.endsWith('.pdf')).toBe(true);
    expect(clean).toBe(`${'文'.repeat(65)}.pdf`);
    expect(() => validateBlobPath(`tus/id/${clean}`)).not.toThrow();
  });

  it('never splits a character (4-byte letters, 2 UTF-16 units each) and keeps short names unchanged', () => {
    const clean = sanitizeFileName('𠀀'.repeat(80));
    expect(bytes(clean)).toBe(200);
    expect(clean).toBe('𠀀'.repeat(50));
    expect(bytes(sanitizeFileName(`${'é'.repeat(150)}`))).toBe(200);
    expect(sanitizeFileName('report (final).pdf')).toBe('report (final).pdf');
  });

  it('cuts a name whose "extension" is too long as a whole, and replaces lone surrogates', () => {
    const clean = sanitizeFileName(`a.${'界'.repeat(100)}`);
    expect(bytes(clean)).toBeLessThanOrEqual(200);
    expect(clean.startsWith('a.')).toBe(true);
    expect(sanitizeFileName('x\ud800y.txt')).toBe('x_y.txt');
  });
});
