import { createHash, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { ChunkMeter } from '../../src/uploads/chunk-meter';
import { DigestWorkerPool } from '../../src/uploads/digest/digest-worker.pool';
import { InlineDigestBackend } from '../../src/uploads/digest/inline-digest.backend';
import { defaultDigestThreads } from '../../src/options/vali-blob.defaults';
import { resolveValiBlobOptions } from '../../src/options/vali-blob-options.validator';

const sha256 = (...parts: Buffer[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

/** Feed `data` in uneven pieces (never a multiple of the batch size), as a socket would. */
function feed(state: { update(d: Uint8Array): void }, data: Buffer, piece = 65_537): void {
  for (let at = 0; at < data.length; at += piece) state.update(data.subarray(at, at + piece));
}

describe.each([
  ['worker pool', () => new DigestWorkerPool(2)],
  ['main thread', () => new InlineDigestBackend()],
])('digest backend: %s', (_name, make) => {
  let backend: ReturnType<typeof make>;
  beforeEach(() => (backend = make()));
  afterEach(() => backend.close());

  it('computes the sha256 of everything fed, in any piece sizes, and stays usable after a digest', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 123);
    const state = backend.create();
    feed(state, data);
    expect(await state.hex()).toBe(sha256(data));
    const more = randomBytes(1000);
    state.update(more);
    expect(await state.hex()).toBe(sha256(data, more));
    expect(await backend.create().hex()).toBe(sha256());
  });

  it('extends a copy without touching the original (a chunk that fails leaves the committed hash)', async () => {
    const first = randomBytes(700_000);
    const second = randomBytes(300_001);
    const committed = backend.create();
    feed(committed, first);
    const chunk = backend.copy(committed);
    feed(chunk, second);
    expect(await chunk.hex()).toBe(sha256(first, second));
    expect(await committed.hex()).toBe(sha256(first));
    chunk.dispose();
    expect(await committed.hex()).toBe(sha256(first));
  });
});

describe('DigestWorkerPool', () => {
  it('hashes in worker threads: feeding returns before hashing; a backlog makes feeders wait', async () => {
    const pool = new DigestWorkerPool(1);
    try {
      const block = randomBytes(1024 * 1024);
      const state = pool.create();
      const expected = createHash('sha256');
      let backlogs = 0;
      // 64 MiB fed without yielding: hashed inline this would leave no backlog at all.
      for (let i = 0; i < 64; i++) {
        state.update(block);
        expected.update(block);
        const backlog = state.backlog();
        if (backlog) {
          backlogs++;
          await backlog;
        }
      }
      expect(backlogs).toBeGreaterThan(0);
      expect(await state.hex()).toBe(expected.digest('hex'));
    } finally {
      await pool.close();
    }
  });

  it('answers null for states of a closed pool (read the blob back), then starts fresh threads', async () => {
    const pool = new DigestWorkerPool(1);
    const state = pool.create();
    state.update(Buffer.from('abc'));
    await pool.close();
    expect(await state.hex()).toBeNull();
    expect(state.backlog()).toBeNull();
    const fresh = pool.create();
    fresh.update(Buffer.from('abc'));
    expect(await fresh.hex()).toBe(sha256(Buffer.from('abc')));
    await pool.close();
  });
});

describe('ChunkMeter with a digest computed elsewhere', () => {
  it('stops reading the body while the digest has a backlog, then passes every byte once it is gone', async () => {
    const source = new PassThrough();
    let release!: () => void;
    let pending: Promise<void> | null = new Promise<void>((resolve) => (release = resolve));
    const seen: number[] = [];
    const meter = new ChunkMeter(source, {
      maxBytes: 1 << 20,
      idleTimeoutMs: 10_000,
      onExceeded: () => new Error('too large'),
      digests: [{ update: (d) => void seen.push(d.length), digest: () => Buffer.alloc(0), backlog: () => pending }],
    });
    const received: Buffer[] = [];
    meter.on('data', (d: Buffer) => received.push(d));
    const ended = new Promise((resolve) => meter.once('end', resolve));
    source.write(Buffer.alloc(1000, 1));
    source.write(Buffer.alloc(1000, 2));
    source.end(Buffer.alloc(1000, 3));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Only the first piece passed: the meter paused the body on the backlog.
    expect(seen).toEqual([1000]);
    pending = null;
    release();
    await ended;
    expect(seen).toEqual([1000, 1000, 1000]);
    expect(Buffer.concat(received)).toEqual(
      Buffer.concat([Buffer.alloc(1000, 1), Buffer.alloc(1000, 2), Buffer.alloc(1000, 3)]),
    );
    expect(meter.endReason).toBe('eof');
  });
});

describe('digestThreads option', () => {
  it('defaults to one thread per core beyond the first, at most 4, and none on a single core', () => {
    expect([1, 2, 3, 8, 64].map((cores) => defaultDigestThreads(cores))).toEqual([0, 1, 2, 4, 4]);
    expect(resolveValiBlobOptions({}).digestThreads).toBe(defaultDigestThreads());
    expect(resolveValiBlobOptions({ digestThreads: 0 }).digestThreads).toBe(0);
  });

  it.each([-1, 1.5, '2', 65])('refuses digestThreads %p', (value) => {
    expect(() => resolveValiBlobOptions({ digestThreads: value as number })).toThrow(
      /digestThreads must be an integer/,
    );
  });
});
