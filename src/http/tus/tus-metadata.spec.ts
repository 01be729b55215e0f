import { formatTusMetadata, metadataContentType, parseTusMetadata } from './tus-metadata';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('Upload-Metadata parsing', () => {
  it('parses pairs, empty values with or without the space, and UTF-8 values', () => {
    expect(parseTusMetadata(`filename ${b64('straße.txt')},is_confidential,empty `, 4096)).toEqual({
      filename: 'straße.txt',
      is_confidential: '',
      empty: '',
    });
    expect(parseTusMetadata(undefined, 4096)).toEqual({});
  });

  it.each([
    ['comma only', ','],
    ['space in key', `my key ${b64('x')}`],
    ['duplicate key', `a ${b64('1')},a ${b64('2')}`],
    ['unpadded base64', 'k YQ'],
    ['not base64', 'k ab$d'],
    ['two spaces', `k  ${b64('x')}`],
    ['binary value', `k ${Buffer.from([0xc3, 0x28]).toString('base64')}`],
  ])('rejects %s with INVALID_METADATA', (_name, header) => {
    const invalid = expect.objectContaining({ code: 'INVALID_METADATA', status: 400 });
    expect(() => parseTusMetadata(header, 4096)).toThrow(invalid);
  });

  it('enforces the size cap in bytes', () => {
    const invalid = expect.objectContaining({ code: 'INVALID_METADATA' });
    expect(() => parseTusMetadata(`k ${b64('x'.repeat(100))}`, 64)).toThrow(invalid);
  });

  it('round-trips through formatTusMetadata', () => {
    const header = `filename ${b64('a,b c.txt')},flag`;
    expect(formatTusMetadata(parseTusMetadata(header, 4096))).toBe(header);
  });

  it('takes a content type only when it looks like a MIME type', () => {
    expect(metadataContentType({ filetype: 'image/png' })).toBe('image/png');
    expect(metadataContentType({ filetype: 'text/html; charset=utf-8' })).toBe('text/html; charset=utf-8');
    expect(metadataContentType({ filetype: 'nonsense' })).toBeNull();
    // A value that could never be a header (controls, beyond Latin-1) is refused, not silently dropped.
    const invalid = expect.objectContaining({ code: 'INVALID_METADATA' });
    expect(() => metadataContentType({ filetype: 'nonsense\r\nX: y' })).toThrow(invalid);
    expect(() => metadataContentType({ filetype: 'image/\u2603' })).toThrow(invalid);
    expect(metadataContentType({})).toBeNull();
  });
});
