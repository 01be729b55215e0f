import { loadServerConfig } from '../../src/server/server.config';

/** ADMIN / ADMIN_TOKEN of the runnable server, as `loadServerConfig` reads them. */
describe('server config: ADMIN and ADMIN_TOKEN', () => {
  const problemOf = (env: NodeJS.ProcessEnv): string => {
    try {
      loadServerConfig(env);
    } catch (error) {
      return (error as Error).message;
    }
    return '';
  };

  it('is off by default and with ADMIN=off', () => {
    expect(loadServerConfig({}).admin).toBeNull();
    expect(loadServerConfig({ ADMIN: 'off', AUTH_TOKEN: 't' }).admin).toBeNull();
  });

  it('takes ADMIN_TOKEN, else AUTH_TOKEN', () => {
    expect(loadServerConfig({ ADMIN: 'on', ADMIN_TOKEN: 'adm' }).admin).toEqual({ token: 'adm' });
    expect(loadServerConfig({ ADMIN: 'on', AUTH_TOKEN: 'tok' }).admin).toEqual({ token: 'tok' });
    expect(loadServerConfig({ ADMIN: 'ON', AUTH_TOKEN: 'tok', ADMIN_TOKEN: 'adm' }).admin).toEqual({ token: 'adm' });
    expect(loadServerConfig({ ADMIN: 'on', AUTH_TOKENS: 'a:x', ADMIN_TOKEN: 'adm' }).admin).toEqual({ token: 'adm' });
  });

  it('refuses ADMIN=on without a token, an owner token as admin token, and bad values', () => {
    expect(problemOf({ ADMIN: 'on' })).toMatch(/ADMIN=on needs ADMIN_TOKEN \(or AUTH_TOKEN\)/);
    // Owner tokens are not admin tokens, so AUTH_TOKENS alone is no admin token either.
    expect(problemOf({ ADMIN: 'on', AUTH_TOKENS: 'alice:a' })).toMatch(/ADMIN=on needs ADMIN_TOKEN/);
    expect(problemOf({ ADMIN: 'on', AUTH_TOKENS: 'alice:a', ADMIN_TOKEN: 'a' })).toMatch(
      /ADMIN_TOKEN must differ from every AUTH_TOKENS token/,
    );
    expect(problemOf({ ADMIN: 'maybe' })).toMatch(/ADMIN must be on or off/);
    expect(problemOf({ ADMIN_TOKEN: 'adm' })).toMatch(/ADMIN_TOKEN is set but ADMIN is not on/);
    // Secrets never appear in the report.
    expect(problemOf({ ADMIN: 'on', AUTH_TOKENS: 'alice:s3cret', ADMIN_TOKEN: 's3cret' })).not.toContain('s3cret');
  });
});
