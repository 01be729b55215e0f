import { RedisSessionStore } from '../../src/redis';
import { REDIS_URL, serviceAvailable } from '../support/services';
import { describeSweep } from './sweep.cases';

let run = 0;
describeSweep(
  'the Redis store',
  async () => {
    // A fresh key space per test: the store's expiry index is per prefix.
    const store = new RedisSessionStore({
      connection: REDIS_URL,
      keyPrefix: `vbcleanup:${process.pid}:${Date.now()}:${run++}:`,
    });
    return { store, close: () => store.close() };
  },
  () => serviceAvailable('Redis', REDIS_URL),
);
