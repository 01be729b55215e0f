import { Logger } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvalidValiBlobOptionsError,
  MemorySessionStore,
  resolveValiBlobOptions,
  UploadSession,
  ValiBlobModule,
} from '../../src';
import { CleanupLock } from '../../src/cleanup/cleanup-lock';
import { ProcessCleanupLock } from '../../src/cleanup/locks/process-cleanup.lock';
import { CLEANUP_JOB_NAME } from '../../src/cleanup/stale-upload-cleanup.service';
import { bootCleanupApp, CleanupApp, expiredSession } from './cleanup-fixture';

const waitFor = async (condition: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** A memory store whose deletes take a while, to keep a sweep in flight. */
class SlowDeleteStore extends MemorySessionStore {
  constructor(private readonly delayMs: number) {
    super();
  }
  override async delete(uploadId: string): Promise<void> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    return super.delete(uploadId);
  }
}

describe('cleanup options validation (startup)', () => {
  it('parses the cron expression for real and reports every problem at once', () => {
    expect(() => resolveValiBlobOptions({ cleanup: { cron: '61 * * * *' } })).toThrow(
      /cleanup\.cron "61 \* \* \* \*" is invalid/,
    );
    expect(() => resolveValiBlobOptions({ cleanup: { cron: 'every minute' } })).toThrow(InvalidValiBlobOptionsError);
    try {
      resolveValiBlobOptions({
        cleanup: { cron: '*/5 * * * * * * *x', batchSize: 0, lock: {} as never, shutdownTimeoutMs: -1 },
      });
      throw new Error('expected to throw');
    } catch (error) {
      const problems = (error as InvalidValiBlobOptionsError).problems;
      expect(problems.some((p) => p.startsWith('cleanup.cron'))).toBe(true);
      expect(problems.some((p) => p.startsWith('cleanup.batchSize'))).toBe(true);
      expect(problems.some((p) => p.startsWith('cleanup.lock'))).toBe(true);
      expect(problems.some((p) => p.startsWith('cleanup.shutdownTimeoutMs'))).toBe(true);
    }
    expect(resolveValiBlobOptions({}).cleanup).toMatchObject({ enabled: true, cron: '*/10 * * * *', batchSize: 500 });
    expect(resolveValiBlobOptions({ cleanup: { cron: '*/30 * * * * *' } }).cleanup.cron).toBe('*/30 * * * * *');
  });

  it('fails the bootstrap of an app with an invalid cron', async () => {
    const compile = Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { m: { type: 'memory' } },
          cleanup: { cron: '0 25 * * *' },
          http: { tus: false, rest: false },
        }),
      ],
    }).compile();
    await expect(compile).rejects.toThrow(/cleanup\.cron/);
  });
});

describe('cleanup cron scheduling and shutdown', () => {
  let root: string;
  let ctx: CleanupApp | undefined;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-cron-'));
  });
  afterEach(async () => {
    await ctx?.app.close();
    ctx = undefined;
    await rm(root, { recursive: true, force: true });
  });

  it('registers the job in the app SchedulerRegistry, sweeps on its ticks, and stops on app.close()', async () => {
    const store = new MemorySessionStore();
    ctx = await bootCleanupApp(root, store, { cleanup: { enabled: true, cron: '* * * * * *' } }, [
      ScheduleModule.forRoot(),
    ]);
    const registry = ctx.app.get(SchedulerRegistry);
    expect(registry.doesExist('cron', CLEANUP_JOB_NAME)).toBe(true);
    expect(registry.getCronJob(CLEANUP_JOB_NAME).isActive).toBe(true);

    const first = expiredSession();
    await store.save(first);
    await waitFor(async () => (await store.get(first.uploadId)) === null, 3500);
    expect(ctx.expiredEvents).toEqual([first.uploadId]);

    await ctx.app.close();
    ctx = undefined;
    expect(registry.doesExist('cron', CLEANUP_JOB_NAME)).toBe(false);
    const later = expiredSession();
    await store.save(later);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await store.get(later.uploadId)).not.toBeNull();
  });

  it('without ScheduleModule still runs its own CronJob (and warns)', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const store = new MemorySessionStore();
    ctx = await bootCleanupApp(root, store, { cleanup: { enabled: true, cron: '* * * * * *' } });
    expect(warn.mock.calls.some(([message]) => /SchedulerRegistry not found/.test(String(message)))).toBe(true);
    warn.mockRestore();
    const session = expiredSession();
    await store.save(session);
    await waitFor(async () => (await store.get(session.uploadId)) === null, 3500);
    expect(ctx.expiredEvents).toEqual([session.uploadId]);
  });

  it('cleanup.enabled: false schedules nothing', async () => {
    const store = new MemorySessionStore();
    ctx = await bootCleanupApp(root, store, { cleanup: { enabled: false, cron: '* * * * * *' } }, [
      ScheduleModule.forRoot(),
    ]);
    expect(ctx.app.get(SchedulerRegistry).doesExist('cron', CLEANUP_JOB_NAME)).toBe(false);
    const session = expiredSession();
    await store.save(session);
    await new Promise((r) => setTimeout(r, 1300));
    expect(await store.get(session.uploadId)).not.toBeNull();
  });

  it('app.close() lets an in-flight run finish and releases the cleanup lock', async () => {
    const store = new SlowDeleteStore(40);
    const sessions: UploadSession[] = Array.from({ length: 8 }, () => expiredSession());
    for (const s of sessions) await store.save(s);
    ctx = await bootCleanupApp(root, store, { cleanup: { enabled: false, batchSize: 3, shutdownTimeoutMs: 5000 } });
    const run = ctx.cleanup.runOnce();
    await new Promise((r) => setTimeout(r, 50));
    expect(ctx.cleanup.running).toBe(true);
    await ctx.app.close();
    ctx = undefined;
    expect(await run).toMatchObject({ expired: 8, errors: 0 });
    // The default (process-local) lock is free again.
    const handle = await new ProcessCleanupLock().tryAcquire();
    expect(handle).not.toBeNull();
    await handle!.release();
  });

  it('app.close() stops a run that exceeds cleanup.shutdownTimeoutMs and still releases the lock', async () => {
    const store = new SlowDeleteStore(150);
    const sessions = Array.from({ length: 20 }, () => expiredSession());
    for (const s of sessions) await store.save(s);
    let released = 0;
    const inner = new ProcessCleanupLock('valiblob:cleanup:bounded');
    const lock: CleanupLock = Object.assign(Object.create(CleanupLock.prototype), {
      tryAcquire: async () => {
        const handle = await inner.tryAcquire();
        return handle && { signal: handle.signal, release: async () => void (released++, await handle.release()) };
      },
    });
    ctx = await bootCleanupApp(root, store, {
      cleanup: { enabled: false, batchSize: 5, shutdownTimeoutMs: 200, lock },
    });
    const run = ctx.cleanup.runOnce();
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await ctx.app.close();
    ctx = undefined;
    expect(Date.now() - started).toBeLessThan(1500);
    const report = await run;
    expect(report.expired).toBeGreaterThan(0);
    expect(report.expired).toBeLessThan(20);
    expect(released).toBeGreaterThanOrEqual(1);
    expect(await inner.tryAcquire()).not.toBeNull();
  });
});
