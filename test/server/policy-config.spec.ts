import { describePolicy, policyFromConfig, policySummary } from '../../src/server/policy.wiring';
import { loadServerConfig } from '../../src/server/server.config';

/** The runnable server's policy variables: parsed and validated by `loadServerConfig`, turned into `policy`. */
describe('server policy environment', () => {
  it('without policy variables there is no policy (the server runs as before)', () => {
    const config = loadServerConfig({});
    expect(config.policy).toEqual({
      allowedContentTypes: null,
      allowedExtensions: null,
      blockedExtensions: null,
      sniff: 'off',
      quotaBytes: null,
      clamd: null,
      clamdOnError: 'reject',
    });
    expect(policyFromConfig(config)).toBeUndefined();
    expect(describePolicy(config)).toBe('none');
  });

  it('ALLOWED_TYPES, ALLOWED_EXTENSIONS, BLOCKED_EXTENSIONS become validation (trimmed, lower-cased, no dots)', () => {
    const config = loadServerConfig({
      ALLOWED_TYPES: ' image/*, Application/PDF,image/*,',
      ALLOWED_EXTENSIONS: 'png,.JPG, tar.gz',
      BLOCKED_EXTENSIONS: 'exe,.js',
    });
    expect(policyFromConfig(config)).toEqual({
      validation: {
        allowedContentTypes: ['image/*', 'application/pdf'],
        allowedExtensions: ['png', 'jpg', 'tar.gz'],
        blockedExtensions: ['exe', 'js'],
      },
    });
  });

  it('SNIFF=on sniffs, SNIFF=enforce also refuses contradicting types, SNIFF=off does neither', () => {
    expect(policyFromConfig(loadServerConfig({ SNIFF: 'on' }))).toEqual({
      contentType: { sniff: true, enforce: false },
    });
    expect(policyFromConfig(loadServerConfig({ SNIFF: 'ENFORCE' }))).toEqual({
      contentType: { sniff: true, enforce: true },
    });
    expect(policyFromConfig(loadServerConfig({ SNIFF: 'off' }))).toBeUndefined();
  });

  it('QUOTA_BYTES is a quota on the default key: per owner with AUTH_TOKENS, one shared key without', () => {
    const shared = loadServerConfig({ QUOTA_BYTES: '1048576' });
    // No `key`: the library's default is the owner id, and `*` for every anonymous upload.
    expect(policyFromConfig(shared)).toEqual({ quota: { maxBytes: 1048576 } });
    expect(policySummary(shared)).toMatchObject({ quotaBytes: 1048576, quotaScope: 'shared' });
    expect(describePolicy(shared)).toBe('quota 1048576 bytes shared by all uploads');
    const owners = loadServerConfig({ QUOTA_BYTES: '10', AUTH_TOKENS: 'alice:a,bob:b' });
    expect(policySummary(owners)).toMatchObject({ quotaBytes: 10, quotaScope: 'owner' });
    expect(describePolicy(owners)).toBe('quota 10 bytes per owner');
  });

  it('CLAMD takes host:port, [ipv6]:port or unix:/path; CLAMD_ON_ERROR reject (default) or allow', () => {
    expect(loadServerConfig({ CLAMD: 'clamd.internal:3310' }).policy.clamd).toEqual({
      host: 'clamd.internal',
      port: 3310,
    });
    expect(loadServerConfig({ CLAMD: '[::1]:3310' }).policy.clamd).toEqual({ host: '::1', port: 3310 });
    const socket = loadServerConfig({ CLAMD: 'unix:/run/clamav/clamd.ctl', CLAMD_ON_ERROR: 'allow' });
    expect(socket.policy).toMatchObject({ clamd: { socketPath: '/run/clamav/clamd.ctl' }, clamdOnError: 'allow' });
    expect(describePolicy(socket)).toBe('clamd at unix:/run/clamav/clamd.ctl (on error: allow)');
    expect(policySummary(socket).virusScan).toBe(true);
  });

  it('CLAMD wires a ClamAvScanner before publish with the chosen onError', async () => {
    const { ClamAvScanner } = await import('../../src/policy/clamav.scanner');
    const policy = policyFromConfig(loadServerConfig({ CLAMD: '127.0.0.1:3310' }));
    expect(policy?.scan?.scanner).toBeInstanceOf(ClamAvScanner);
    expect(policy?.scan?.onError).toBe('reject');
  });

  it('reports every bad policy variable at once, with the other server variables', () => {
    let message = '';
    try {
      loadServerConfig({
        PORT: 'x',
        ALLOWED_TYPES: 'image/*,text,*/*',
        ALLOWED_EXTENSIONS: 'png,exe',
        BLOCKED_EXTENSIONS: 'exe,a b',
        SNIFF: 'maybe',
        QUOTA_BYTES: '-5',
        CLAMD: 'clamd',
        CLAMD_ON_ERROR: 'ignore',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    const lines = message.split('\n').slice(1);
    expect(lines).toEqual([
      ' - PORT must be 0..65535 (got x)',
      ' - ALLOWED_TYPES entry 2 must be type/subtype or type/* (got "text")',
      ' - ALLOWED_TYPES entry 3 must be type/subtype or type/* (got "*/*")',
      ' - BLOCKED_EXTENSIONS entry 2 must be an extension like exe (got "a b")',
      ' - ALLOWED_EXTENSIONS and BLOCKED_EXTENSIONS both name exe',
      ' - SNIFF must be off, on or enforce',
      ' - QUOTA_BYTES must be a positive integer (bytes)',
      ' - CLAMD must be host:port or unix:/absolute/path',
      ' - CLAMD_ON_ERROR must be reject or allow',
    ]);
  });

  it('refuses empty lists, quotas that are not integers, bad clamd addresses, onError without CLAMD', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ ALLOWED_TYPES: ' , ,' }, /ALLOWED_TYPES names nothing/],
      [{ BLOCKED_EXTENSIONS: ',' }, /BLOCKED_EXTENSIONS names nothing/],
      [{ ALLOWED_EXTENSIONS: 'png/x' }, /ALLOWED_EXTENSIONS entry 1 must be an extension/],
      [{ QUOTA_BYTES: '1.5' }, /QUOTA_BYTES must be a positive integer/],
      [{ QUOTA_BYTES: '0' }, /QUOTA_BYTES must be a positive integer/],
      [{ QUOTA_BYTES: '1e3' }, /QUOTA_BYTES must be a positive integer/],
      [{ CLAMD: 'host:0' }, /CLAMD must be/],
      [{ CLAMD: 'host:65536' }, /CLAMD must be/],
      [{ CLAMD: 'unix:relative.sock' }, /CLAMD must be/],
      [{ CLAMD: 'tcp://host:3310' }, /CLAMD must be/],
      [{ CLAMD_ON_ERROR: 'allow' }, /CLAMD_ON_ERROR is set but CLAMD is not/],
    ];
    for (const [env, problem] of bad) expect(() => loadServerConfig(env)).toThrow(problem);
  });

  it('the demo summary says what is allowed, and nothing about where clamd runs', () => {
    const config = loadServerConfig({ ALLOWED_TYPES: 'image/png', SNIFF: 'enforce', CLAMD: 'scanner.local:3310' });
    expect(policySummary(config)).toEqual({
      allowedContentTypes: ['image/png'],
      allowedExtensions: null,
      blockedExtensions: null,
      sniff: 'enforce',
      quotaBytes: null,
      quotaScope: null,
      virusScan: true,
    });
  });
});
