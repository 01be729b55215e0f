import { measureChunkRoundTrips, MeasuredStore, total } from './round-trips.harness';
import { PG_URL, REDIS_URL, serviceAvailable } from '../support/services';

/**
 * What one 1 MiB chunk may cost at most, per store with its default locker (issue 17): database statements or
 * Redis commands (`roundTrips`), and calls into the locker and the store (`calls`, what the memory store pays).
 * Steady state: one lock, one read under it, one advance, one release.
 */
const BUDGET: Record<MeasuredStore, { roundTrips: number; calls: number; reads: number }> = {
  memory: { roundTrips: 0, calls: 4, reads: 1 },
  sqlite: { roundTrips: 4, calls: 4, reads: 1 },
  postgres: { roundTrips: 4, calls: 4, reads: 1 },
  // The advance is a read and a Lua compare-and-set (see RedisSessionStore.compareAndSet).
  redis: { roundTrips: 5, calls: 4, reads: 1 },
};

describe('round trips per chunk (1 MiB chunks, default locker of each store)', () => {
  it.each(['memory', 'sqlite', 'postgres', 'redis'] as const)('%s stays within its budget', async (store) => {
    if (store === 'postgres' && !(await serviceAvailable('PostgreSQL', PG_URL))) return;
    if (store === 'redis' && !(await serviceAvailable('Redis', REDIS_URL))) return;
    const cost = await measureChunkRoundTrips(store, 8);
    const budget = BUDGET[store];
    expect({ store, roundTrips: total(cost.roundTrips), calls: total(cost.calls), reads: cost.calls.read }).toEqual({
      store,
      roundTrips: expect.any(Number),
      calls: expect.any(Number),
      reads: budget.reads,
    });
    expect(total(cost.roundTrips)).toBeLessThanOrEqual(budget.roundTrips);
    expect(total(cost.calls)).toBeLessThanOrEqual(budget.calls);
    // Exactly one lock and one release per chunk: the saving must not come from skipping the lock.
    expect(cost.calls.lock).toBe(1);
    expect(cost.calls.release).toBe(1);
    expect(cost.calls.advance).toBe(1);
  });
});
