import { assertMediaTypePatterns, isTypeAllowed, matchesMediaType } from '../../src/policy/media-type.match';

describe('matchesMediaType', () => {
  it.each([
    ['image/png', 'image/png'],
    ['IMAGE/PNG', 'image/png; charset=x'],
    ['image/png; q=1', 'Image/Png'],
    ['image/jpeg', 'image/jpg'],
    ['image/jpg', 'image/pjpeg'],
    ['image/*', 'image/svg+xml'],
    ['IMAGE/*', 'image/PNG'],
    ['text/*', 'text/xml'],
    ['application/*', 'text/xml'],
    ['audio/*', 'audio/mp3'],
    ['*', 'application/pdf'],
    ['*/*', 'video/mp4'],
  ])('%j matches %j', (pattern, type) => {
    expect(matchesMediaType(pattern, type)).toBe(true);
  });

  it.each([
    ['image/png', 'image/jpeg'],
    ['image/*', 'application/pdf'],
    ['image/*', 'imagex/png'],
    ['text/*', 'application/json'],
    ['image/png', 'image/png+x'],
    ['*', ''],
    ['*/*', 'png'],
    ['image/*', 'image'],
  ])('%j does not match %j', (pattern, type) => {
    expect(matchesMediaType(pattern, type)).toBe(false);
  });
});

describe('isTypeAllowed', () => {
  it('allows a type any pattern matches, and never a missing type', () => {
    expect(isTypeAllowed(['image/*', 'application/pdf'], 'application/PDF')).toBe(true);
    expect(isTypeAllowed(['image/*', 'application/pdf'], 'application/zip')).toBe(false);
    expect(isTypeAllowed(['*/*'], null)).toBe(false);
    expect(isTypeAllowed([], 'image/png')).toBe(false);
  });
});

describe('assertMediaTypePatterns', () => {
  it('accepts exact types, type wildcards, the catch-all and parameters', () => {
    expect(assertMediaTypePatterns(['image/png', 'image/*', '*', '*/*', 'text/plain; charset=utf-8'])).toEqual([]);
    expect(assertMediaTypePatterns(['application/vnd.ms-excel', 'image/svg+xml', 'Application/JSON'])).toEqual([]);
  });

  it('names every bad entry', () => {
    const problems = assertMediaTypePatterns(['image', 'ima*ge/png', '*/png', 'image/p*', '', 'a/b/c', 3], 'k');
    expect(problems).toEqual([
      'k[0] "image" is not a media type pattern (type/subtype, type/* or */*)',
      'k[1] "ima*ge/png" is not a media type pattern (type/subtype, type/* or */*)',
      'k[2] "*/png" is not a media type pattern (type/subtype, type/* or */*)',
      'k[3] "image/p*" is not a media type pattern (type/subtype, type/* or */*)',
      'k[4] "" is not a media type pattern (type/subtype, type/* or */*)',
      'k[5] "a/b/c" is not a media type pattern (type/subtype, type/* or */*)',
      'k[6] must be a string (got 3)',
    ]);
  });

  it('refuses a list that is not an array', () => {
    expect(assertMediaTypePatterns('image/*')).toEqual([
      'policy.validation.allowedContentTypes must be an array of media types (got "image/*")',
    ]);
  });
});
