import { RedisUploadLocker } from '../../src/locking/redis/redis-upload.locker';
import type { RedisClient, RedisConnection } from '../../src/sessions/redis/redis-connection';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import { runSessionStoreContract } from '../../src/testing/session-store.contract';
import { runRedisLockCases } from './redis-lock.cases';
import { newPartition, runRedisStoreCases } from './redis-store.cases';

/**
 * What every real Redis topology (Cluster, Sentinel) runs the same way: the session store contract, the
 * Redis-store cases and the locker cases, all through `connection()`. Register inside the topology's describe.
 */
export function runRedisTopologyCases(
  name: string,
  connection: () => RedisConnection,
  admin: () => RedisClient,
  lockerTitle: string,
): void {
  // The fixture's store lives in a fresh partition; the contract's other partitions are named after it, so no
  // test meets another test's sessions on this shared topology.
  let fixturePartition = '';
  runSessionStoreContract(
    name,
    async () => {
      fixturePartition = newPartition();
      const store = new RedisSessionStore({ connection: connection(), partition: fixturePartition });
      return { store, dispose: () => store.close() };
    },
    {
      partitioned: async (partition) => {
        const store = new RedisSessionStore({
          connection: connection(),
          partition: `${fixturePartition}-${partition}`,
        });
        return { store, dispose: () => store.close() };
      },
    },
  );

  describe('Redis-store cases', () => {
    runRedisStoreCases((partition) => new RedisSessionStore({ connection: connection(), partition }));
  });

  describe(lockerTitle, () => {
    runRedisLockCases(() => ({
      locker: (options) => new RedisUploadLocker({ connection: connection(), ...options }),
      store: (keyPrefix) => new RedisSessionStore({ connection: connection(), keyPrefix }),
      admin,
    }));
  });
}
