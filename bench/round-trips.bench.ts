import {
  ChunkCost,
  measureChunkRoundTrips,
  MeasuredStore,
  PG_URL,
  REDIS_URL,
  ROUND_TRIP_KINDS,
  total,
} from '../test/performance/round-trips.harness';
import { portOpen } from '../test/support/services';
import { Benchmark, BenchResult, BenchRow } from './support/bench-result';
import { QUICK } from './support/processes';

const CHUNKS = QUICK ? 8 : 32;
const CHUNK_SIZE = 1024 * 1024;

const LABELS: Record<MeasuredStore, string> = {
  memory: 'memory (memory locker)',
  sqlite: 'SQLite, TypeORM sqlite3 (SQL locker)',
  postgres: 'PostgreSQL, TypeORM pg (SQL locker)',
  redis: 'Redis (Redis locker)',
};

const round = (n: number) => Math.round(n * 100) / 100;

function row(cost: ChunkCost): BenchRow {
  const result: BenchRow = { store: LABELS[cost.store] };
  for (const kind of ROUND_TRIP_KINDS) result[kind] = round(cost.roundTrips[kind]);
  result['round trips'] = round(total(cost.roundTrips));
  result['store+lock calls'] = round(total(cost.calls));
  result['chunk ms (mean)'] = round(cost.chunkMs);
  result['chunk ms (p50)'] = round(cost.chunkP50Ms);
  return result;
}

/**
 * Round trips one 1 MiB chunk costs, per session store with its default locker: database statements or Redis
 * commands charged to the step running when they were sent (lock, read, advance, release; anything else is
 * "other"), and the mean and median time of one `uploadChunk` call through the engine (local disk provider).
 */
export const roundTripsBenchmark: Benchmark = {
  name: 'round-trips',
  title: `Round trips per ${CHUNK_SIZE / 1024 / 1024} MiB chunk (${CHUNKS} chunks, sequential)`,
  async run(): Promise<BenchResult> {
    const rows: BenchRow[] = [];
    const reachable: Record<MeasuredStore, () => Promise<boolean>> = {
      memory: async () => true,
      sqlite: async () => true,
      postgres: () => portOpen(PG_URL),
      redis: () => portOpen(REDIS_URL),
    };
    for (const store of ['memory', 'sqlite', 'postgres', 'redis'] as const) {
      if (!(await reachable[store]())) {
        rows.push({ store: LABELS[store], 'round trips': 'skipped: not reachable' });
        continue;
      }
      rows.push(row(await measureChunkRoundTrips(store, CHUNKS, CHUNK_SIZE)));
    }
    return {
      name: 'round-trips',
      title: this.title,
      rows,
      notes: [
        'One warm-up chunk first (first lock row, script loading), then the average of the chunks measured.',
        'lock = acquire, read = session store get, advance = fenced compare-and-set, release = lease release;',
        'memory has no round trips: "store+lock calls" counts the calls into the locker and store instead.',
        'Chunk times include writing 1 MiB to the local disk provider; the upload never completes in the run.',
      ],
    };
  },
};

/** `node -r @swc-node/register bench/round-trips.bench.ts` runs this benchmark alone. */
if (require.main === module) {
  void roundTripsBenchmark.run().then(
    (result) => {
      console.table(result.rows);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
