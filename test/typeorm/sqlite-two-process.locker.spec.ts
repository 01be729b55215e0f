import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LockCounter } from './lock-contender';
import { installedSqliteDrivers, migratedDataSource, scratchDir } from './typeorm-test-db';

const ROOT = join(__dirname, '..', '..');
const ROUNDS = 30;

/** A started contender: `ready` once it is connected and waiting for go, `done` with its output at exit. */
function contender(
  url: string,
  driver: string,
  counterFile: string,
): { ready: Promise<void>; go(): void; done: Promise<string> } {
  // NODE_OPTIONS is inherited: under scripts/typeorm-line.js the child loads TypeORM 1.x too.
  const child = spawn(
    process.execPath,
    [
      '-r',
      '@swc-node/register',
      'test/typeorm/lock-contender.ts',
      url,
      'shared-upload',
      counterFile,
      String(ROUNDS),
      driver,
    ],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (data: Buffer) => {
    output += data.toString();
    if (output.includes('ready ')) markReady();
  });
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const done = new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`contender exited with ${code}:\n${output}`)),
    );
  });
  // A child that dies before it is ready must fail the test, not hang it.
  done.catch(() => markReady());
  return { ready, go: () => child.stdin.end('go\n'), done };
}

/**
 * SqlUploadLocker between two OS processes on one SQLite file, each with its own connection — what two server
 * processes on the embedded default do. With better-sqlite3 (TypeORM 1.x) every statement runs synchronously and a
 * busy database blocks the caller, unlike sqlite3's thread pool, so this runs on every driver of the installed
 * TypeORM line: no increment may be lost and fences must grow from holder to holder.
 */
describe.each(installedSqliteDrivers())('SqlUploadLocker across two processes on one SQLite file (%s)', (driver) => {
  const tmp = scratchDir(`two-process-lock-${driver}`);
  afterAll(() => tmp.cleanup());

  it(`never lets both processes in at once (${ROUNDS} rounds each, read-modify-write outside SQLite)`, async () => {
    const url = `sqlite:${join(tmp.dir, 'locks.sqlite')}`;
    const counterFile = join(tmp.dir, 'counter.json');
    const initial: LockCounter = { count: 0, lastFence: 0, violations: [] };
    writeFileSync(counterFile, JSON.stringify(initial));
    const setup = await migratedDataSource(url, {}, { sqliteDriver: driver });
    const type = setup.options.type;
    await setup.destroy();

    const contenders = [contender(url, driver, counterFile), contender(url, driver, counterFile)];
    await Promise.all(contenders.map((c) => c.ready));
    for (const c of contenders) c.go();
    const outputs = await Promise.all(contenders.map((c) => c.done));
    const counter = JSON.parse(readFileSync(counterFile, 'utf8')) as LockCounter;
    expect(counter.violations).toEqual([]);
    expect(counter.count).toBe(2 * ROUNDS);
    // Both children really used this driver (TypeORM's type name: `sqlite` is the sqlite3 driver).
    expect(type).toBe(driver === 'sqlite3' ? 'sqlite' : 'better-sqlite3');
    for (const output of outputs)
      expect(output).toMatch(new RegExp(`ready \\d+ ${type}\\n[\\s\\S]*done \\d+ ${type}\\n`));
  }, 120_000);
});
