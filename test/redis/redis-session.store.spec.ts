import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import { runSessionStoreContract } from '../../src/testing/session-store.contract';
import { REDIS_URL, serviceAvailable } from '../support/services';

// Decided before the suite is declared: skipped loudly when Redis is down, a failure under CI=true.
const available = serviceAvailable('Redis', REDIS_URL);

describe('RedisSessionStore (real Redis)', () => {
  let admin: Redis;
  const prefixes: string[] = [];

  beforeAll(async () => {
    if (!(await available)) return;
    admin = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    if (!admin) return;
    // Leave nothing behind for the engineers sharing this Redis.
    for (const prefix of prefixes) {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
    }
    await admin.quit();
  });

  // The partitioned stores share the fixture's random prefix (same backend, other partitions): `<prefix>:<p>:session:`.
  let base = '';
  runSessionStoreContract(
    'redis',
    async () => {
      if (!(await available)) throw new Error('Redis unavailable');
      base = `vbtest:${randomBytes(6).toString('hex')}`;
      prefixes.push(`${base}:`);
      const store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix: `${base}:session:` });
      return { store, dispose: () => store.close() };
    },
    {
      partitioned: async (partition) => {
        const store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix: `${base}:session:`, partition });
        return { store, dispose: () => store.close() };
      },
    },
  );
});
