import { loadServerConfig } from '../../src/server/server.config';
import { redisWiring } from '../../src/server/redis.wiring';

/** Server env → Redis wiring (no connection is opened: the store is built by the factory, at Nest startup). */
describe('redisWiring (server env)', () => {
  const wire = (env: Record<string, string>) => redisWiring(loadServerConfig(env), env);

  it('is off without REDIS_URL, REDIS_CLUSTER or REDIS_SENTINELS', () => {
    expect(wire({ DATABASE_URL: 'postgres://x@127.0.0.1/db' })).toBeNull();
  });

  it('describes a Cluster, a Sentinel master and a URL (password hidden), with the partition', () => {
    expect(wire({ REDIS_CLUSTER: '127.0.0.1:7000, 127.0.0.1:7001' })?.description).toBe(
      'Redis sessions and locks at Redis Cluster at 127.0.0.1:7000, 127.0.0.1:7001 (prefix valiblob:)',
    );
    expect(
      wire({ REDIS_SENTINELS: 'a.example:26379,[::1]:26380', REDIS_SENTINEL_NAME: 'm', REDIS_PARTITION: 'app-1' })
        ?.description,
    ).toBe(
      'Redis sessions and locks at Redis Sentinel master "m" via a.example:26379,[::1]:26380 ' +
        '(prefix valiblob:, partition app-1)',
    );
    expect(wire({ REDIS_URL: 'redis://:secret@h:6379' })?.description).toBe(
      'Redis sessions and locks at redis://***@h:6379 (prefix valiblob:)',
    );
  });

  it('refuses conflicting or malformed Redis env, listing every problem', () => {
    const error = (env: Record<string, string>) => {
      try {
        wire(env);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(error({ REDIS_URL: 'redis://h', REDIS_CLUSTER: 'h:1' })).toContain('only one of REDIS_URL');
    expect(error({ REDIS_SENTINELS: 'h:26379' })).toContain('REDIS_SENTINELS needs REDIS_SENTINEL_NAME');
    expect(error({ REDIS_CLUSTER: 'h:1,nohost,h:99999' })).toMatch(/"nohost"[\s\S]*"h:99999"/);
    expect(error({ REDIS_CLUSTER: 'h:1', REDIS_PARTITION: 'a:b' })).toContain(
      'REDIS_PARTITION must be a non-empty string of at most 64',
    );
  });
});
