import { checkExtension, extensionsOf, normalizeExtensionList } from '../../src/policy/extension-rule';

describe('extensionsOf', () => {
  it.each<[string, string[]]>([
    ['photo.jpg', ['jpg']],
    ['a/b/Photo.JPG', ['jpg']],
    ['a/photo.tar.gz', ['tar', 'gz']],
    ['dir.d/readme', []],
    ['evil.exe.', ['exe']],
    ['evil.exe ', ['exe']],
    ['evil.exe. . ..', ['exe']],
    ['invoice.exe.pdf', ['exe', 'pdf']],
    ['a..exe', ['exe']],
    ['.env', []],
    ['.env.local', ['local']],
    ['..hidden.txt', ['txt']],
    ['x\\evil.exe', ['exe']],
    ['...', []],
  ])('%j → %j', (path, extensions) => {
    expect(extensionsOf(path)).toEqual(extensions);
  });
});

describe('checkExtension: blocked', () => {
  const blocked = ['exe', '.BAT', 'htaccess', 'php.jpg'];

  it.each(['a/photo.jpg', 'notes.txt', 'exe', 'a/exe/readme.md', 'my.exercise.txt'])('accepts %j', (path) => {
    expect(checkExtension(path, { blocked })).toEqual({ ok: true });
  });

  it.each<[string, string]>([
    ['setup.exe', 'exe'],
    ['SETUP.EXE', 'exe'],
    ['run.bat', 'bat'],
    ['invoice.exe.pdf', 'exe'],
    ['evil.exe.', 'exe'],
    ['evil.exe  ', 'exe'],
    ['a/.htaccess', 'htaccess'],
    ['shell.php.jpg', 'php.jpg'],
    ['evil.exe::$DATA', 'exe'],
    ['evil.exe:stream.jpg', 'exe'],
  ])('refuses %j for %j', (path, extension) => {
    expect(checkExtension(path, { blocked })).toEqual({
      ok: false,
      extension,
      reason: `files with extension ".${extension}" are not accepted`,
    });
  });
});

describe('checkExtension: allowed', () => {
  const allowed = ['jpg', '.PNG', 'tar.gz'];

  it.each(['a/photo.jpg', 'photo.JPG', 'img.png', 'backup.tar.gz', 'x.y.tar.gz', 'photo.jpg.', 'a.jpg:b.png'])(
    'accepts %j',
    (path) => {
      expect(checkExtension(path, { allowed })).toEqual({ ok: true });
    },
  );

  it.each<[string, string]>([
    ['photo.jpg.exe', 'exe'],
    ['archive.gz', 'gz'],
    ['archive.tgz', 'tgz'],
    ['evil.exe:x.jpg', 'exe'],
    ['photo.jpg::$DATA', 'jpg::$data'],
  ])('refuses %j for %j', (path, extension) => {
    expect(checkExtension(path, { allowed })).toMatchObject({ ok: false, extension });
  });

  it.each(['README', 'a/.env', 'a/b.d/Makefile', 'photo.'])('refuses %j, which has no extension', (path) => {
    expect(checkExtension(path, { allowed })).toEqual({
      ok: false,
      extension: null,
      reason: 'a file name without an extension is not accepted',
    });
  });

  it('checks the blocklist too when both are given', () => {
    const rule = { allowed: ['pdf'], blocked: ['exe'] };
    expect(checkExtension('invoice.exe.pdf', rule)).toMatchObject({ ok: false, extension: 'exe' });
    expect(checkExtension('invoice.pdf', rule)).toEqual({ ok: true });
  });

  it('refuses everything with an empty allowlist, nothing without lists', () => {
    expect(checkExtension('a.jpg', { allowed: [] })).toMatchObject({ ok: false, extension: 'jpg' });
    expect(checkExtension('a.exe', {})).toEqual({ ok: true });
  });
});

describe('normalizeExtensionList', () => {
  it('normalises case, leading dots and duplicates', () => {
    expect(normalizeExtensionList(['.PNG', 'png', ' jpg ', 'Tar.Gz', '..md'])).toEqual({
      values: ['png', 'jpg', 'tar.gz', 'md'],
      problems: [],
    });
  });

  it('names every bad entry', () => {
    const { values, problems } = normalizeExtensionList(
      ['', '.', 'a/b', 'a\\b', 'tar..gz', 'exe.', 'a b', 'a:b', 7],
      'k',
    );
    expect(values).toEqual([]);
    expect(problems).toEqual([
      'k[0] is not a file extension (got "")',
      'k[1] is not a file extension (got ".")',
      'k[2] is not a file extension (got "a/b")',
      'k[3] is not a file extension (got "a\\\\b")',
      'k[4] is not a file extension (got "tar..gz")',
      'k[5] is not a file extension (got "exe.")',
      'k[6] is not a file extension (got "a b")',
      'k[7] is not a file extension (got "a:b")',
      'k[8] is not a file extension (got 7)',
    ]);
  });

  it('refuses a list that is not an array', () => {
    expect(normalizeExtensionList('png').problems).toEqual([
      'policy.validation.allowedExtensions must be an array of extensions (got "png")',
    ]);
  });
});
