import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import {
  ResumableSessionStore,
  ResumableUploadService,
  UploadLease,
  UploadLocker,
  ValiBlobModule,
  ValiBlobModuleOptions,
} from '../../src';
import { RedisSessionStore } from '../../src/redis';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { PG_URL, REDIS_URL } from '../support/services';
import { createScratchPostgres, migratedDataSource } from '../typeorm/typeorm-test-db';

/** Which engine step a round trip belongs to. */
export type RoundTripKind = 'lock' | 'read' | 'advance' | 'release' | 'other';

/** The stores measured, each with the locker it gets by default. */
export type MeasuredStore = 'memory' | 'sqlite' | 'postgres' | 'redis';

const KINDS: RoundTripKind[] = ['lock', 'read', 'advance', 'release', 'other'];

/** Per-chunk averages of one store. */
export interface ChunkCost {
  store: MeasuredStore;
  /** Database statements / Redis commands per chunk, by step (0 for the memory store: nothing leaves the process). */
  roundTrips: Record<RoundTripKind, number>;
  /** Calls into the locker and the session store per chunk, by step (what the memory store pays instead). */
  calls: Record<RoundTripKind, number>;
  /** Mean wall time of one `uploadChunk` call, in ms. */
  chunkMs: number;
  /** Median wall time of one `uploadChunk` call, in ms. */
  chunkP50Ms: number;
}

const zero = (): Record<RoundTripKind, number> => ({ lock: 0, read: 0, advance: 0, release: 0, other: 0 });

/**
 * Counts what one chunk costs. A step (lock, read, advance, release) is "current" while its call runs; every
 * statement or command seen meanwhile is charged to it. Chunks run one at a time, so nothing overlaps.
 */
class RoundTripMeter {
  phase: RoundTripKind = 'other';
  counting = false;
  readonly roundTrips = zero();
  readonly calls = zero();

  trip(statement = ''): void {
    // The SQL locker's release-request poller runs on a timer, whatever step happens to be current.
    const kind = /release_requested_at IS NOT NULL/i.test(statement) ? 'other' : this.phase;
    if (this.counting) this.roundTrips[kind]++;
  }

  async during<T>(kind: RoundTripKind, call: () => Promise<T>): Promise<T> {
    if (this.counting) this.calls[kind]++;
    const previous = this.phase;
    this.phase = kind;
    try {
      return await call();
    } finally {
      this.phase = previous;
    }
  }
}

/** TypeORM logger that counts every statement the query runners send. */
class CountingLogger implements TypeOrmLogger {
  constructor(private readonly meter: RoundTripMeter) {}
  logQuery(query: string): void {
    this.meter.trip(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

/** Charge the engine's locker and store calls to their steps (patched on the instances the engine uses). */
function observe(meter: RoundTripMeter, locker: UploadLocker, store: ResumableSessionStore): void {
  const acquire = locker.acquire.bind(locker);
  locker.acquire = async (uploadId, options) => {
    const lease: UploadLease = await meter.during('lock', () => acquire(uploadId, options));
    const release = lease.release.bind(lease);
    return { fence: lease.fence, signal: lease.signal, release: () => meter.during('release', release) };
  };
  const get = store.get.bind(store);
  store.get = (uploadId) => meter.during('read', () => get(uploadId));
  const advance = store.advance.bind(store);
  store.advance = (uploadId, offset, patch) => meter.during('advance', () => advance(uploadId, offset, patch));
}

interface Backend {
  options: Partial<ValiBlobModuleOptions>;
  close(): Promise<void>;
}

async function backend(store: MeasuredStore, meter: RoundTripMeter, dir: string): Promise<Backend> {
  if (store === 'memory') return { options: {}, close: async () => {} };
  if (store === 'redis') {
    const client = new Redis(REDIS_URL, { lazyConnect: true });
    await client.connect();
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command: Parameters<typeof send>[0], stream?: Parameters<typeof send>[1]) => {
      meter.trip(String(command.name));
      return send(command, stream);
    }) as typeof client.sendCommand;
    const sessions = new RedisSessionStore({ client, keyPrefix: `vb-rtt-${randomBytes(4).toString('hex')}:` });
    return {
      options: { sessionStore: sessions },
      close: async () => {
        await sessions.close();
        client.disconnect();
      },
    };
  }
  const scratch = store === 'postgres' ? await createScratchPostgres('rtt') : undefined;
  const url = scratch?.url ?? `sqlite:${join(dir, 'sessions.sqlite')}`;
  const dataSource: DataSource = await migratedDataSource(url, { logger: new CountingLogger(meter) });
  // The release-request poller is timer-driven, not per chunk: keep it out of the way of the counts.
  const sessions = new TypeOrmSessionStore(dataSource, { lock: { releasePollMs: 60_000 } });
  return {
    options: { sessionStore: sessions },
    close: async () => {
      await dataSource.destroy();
      await scratch?.drop();
    },
  };
}

/**
 * Upload `chunks` chunks of `chunkSize` bytes through the engine (one warm-up chunk first, which pays one-off
 * costs such as the first lock row or loading a Redis script) and average what each later chunk cost.
 */
export async function measureChunkRoundTrips(
  store: MeasuredStore,
  chunks = 32,
  chunkSize = 1024 * 1024,
): Promise<ChunkCost> {
  const dir = await mkdtemp(join(tmpdir(), 'vb-rtt-'));
  const meter = new RoundTripMeter();
  const wired = await backend(store, meter, dir);
  const moduleRef = await Test.createTestingModule({
    imports: [
      ValiBlobModule.forRoot({
        providers: { local: { root: join(dir, 'files') } },
        maxUploadSize: (chunks + 2) * chunkSize,
        ...wired.options,
        http: { tus: false, rest: false },
      }),
    ],
  }).compile();
  try {
    await moduleRef.init();
    const uploads = moduleRef.get(ResumableUploadService);
    observe(meter, await moduleRef.resolve(UploadLocker), moduleRef.get(ResumableSessionStore));
    const data = randomBytes(chunkSize);
    // Larger than what is sent: no chunk completes the upload, so every one measured is a plain append.
    const session = await uploads.start({ path: 'rtt/file.bin', totalSize: (chunks + 2) * chunkSize });
    const times: number[] = [];
    for (let i = 0; i <= chunks; i++) {
      meter.counting = i > 0;
      const started = performance.now();
      await uploads.uploadChunk({
        uploadId: session.uploadId,
        offset: i * chunkSize,
        body: Readable.from([data]),
        contentLength: chunkSize,
      });
      if (i > 0) times.push(performance.now() - started);
    }
    meter.counting = false;
    const per = (counts: Record<RoundTripKind, number>) =>
      Object.fromEntries(KINDS.map((k) => [k, counts[k] / chunks])) as Record<RoundTripKind, number>;
    const sorted = [...times].sort((a, b) => a - b);
    return {
      store,
      roundTrips: per(meter.roundTrips),
      calls: per(meter.calls),
      chunkMs: times.reduce((a, b) => a + b, 0) / chunks,
      chunkP50Ms: sorted[Math.floor(sorted.length / 2)],
    };
  } finally {
    await moduleRef.close();
    await wired.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Sum over the steps of one chunk. */
export function total(counts: Record<RoundTripKind, number>): number {
  return KINDS.reduce((sum, k) => sum + counts[k], 0);
}

export { KINDS as ROUND_TRIP_KINDS, PG_URL, REDIS_URL };
