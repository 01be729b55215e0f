// Child program of sqlite-two-process.locker.spec.ts: one OS process with its own DataSource on a shared SQLite file,
// taking the same upload lock `rounds` times. Inside the lock it does a deliberately slow read-modify-write of a
// counter file (outside SQLite, so only the lock protects it) and checks the fence grew since the last holder.
// Usage:
//   node -r @swc-node/register test/typeorm/lock-contender.ts <sqlite url> <upload id> <counter file> <rounds> <driver>
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqlUploadLocker } from '../../src/locking/sql/sql-upload.locker';
import type { SqliteDriverPackage } from '../../src/sessions/typeorm/sqlite-driver';
import { valiBlobDataSource } from './typeorm-test-db';

/** What the counter file holds: increments so far, the last holder's fence, and any overlap seen. */
export interface LockCounter {
  count: number;
  lastFence: number;
  violations: string[];
}

async function main(): Promise<void> {
  const [url, uploadId, counterFile, rounds, sqliteDriver] = process.argv.slice(2);
  const dataSource = valiBlobDataSource(url, {}, { sqliteDriver: sqliteDriver as SqliteDriverPackage });
  await dataSource.initialize();
  const locker = new SqlUploadLocker(dataSource, { pollMs: 5, ttlMs: 10_000 });
  const driver = dataSource.options.type;
  process.stdout.write(`ready ${process.pid} ${driver}\n`);
  // Start barrier: the parent says go once both processes are up, so their rounds really overlap.
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  process.stdin.pause();
  for (let i = 0; i < Number(rounds); i++) {
    const lease = await locker.acquire(uploadId, { waitMs: 60_000, requestRelease: false });
    const counter = JSON.parse(readFileSync(counterFile, 'utf8')) as LockCounter;
    if (lease.fence <= counter.lastFence)
      counter.violations.push(`${process.pid}: fence ${lease.fence} after ${counter.lastFence}`);
    // Widen the window a second holder would need: without the lock, increments get lost here.
    await sleep(2 + Math.floor(Math.random() * 6));
    writeFileSync(counterFile, JSON.stringify({ ...counter, count: counter.count + 1, lastFence: lease.fence }));
    await lease.release();
    // Let the other process in now and then, so the two really interleave.
    if (i % 3 === 0) await sleep(1);
  }
  await locker.close();
  await dataSource.destroy();
  process.stdout.write(`done ${process.pid} ${driver}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
