import { CleanupLock, CleanupLockHandle, cleanupLockHandle } from '../../src/cleanup/cleanup-lock';
import { StaleUploadCleanupService } from '../../src/cleanup/stale-upload-cleanup.service';
import { UploadLocker } from '../../src/locking/upload-locker';
import { ResumableSessionStore } from '../../src/sessions/resumable-session-store';
import { VALIBLOB_METRICS as M } from '../../src/telemetry/telemetry.names';
import { ResumableUploadService } from '../../src/uploads/resumable-upload.service';
import { startTusApp, TusTestApp } from '../tus/tus-app';
import { installTestSdk, TestSdk } from './otel-test-sdk';

/** A cleanup lock the test steers: free, held by "another instance", or its backend down. */
class SteeredLock extends CleanupLock {
  state: 'free' | 'held' | 'down' = 'free';

  async tryAcquire(): Promise<CleanupLockHandle | null> {
    if (this.state === 'down') throw new Error('lock backend down (test)');
    if (this.state === 'held') return null;
    return cleanupLockHandle(new AbortController().signal, async () => undefined);
  }
}

describe('cleanup metrics: runs by outcome and the backlog left', () => {
  let t: TusTestApp;
  let sdk: TestSdk;
  const lock = new SteeredLock();

  beforeAll(async () => {
    sdk = installTestSdk();
    t = await startTusApp('express', { cleanup: { enabled: false, lock } }, { tus: false, rest: false });
  });

  afterAll(async () => {
    await t?.close();
    await sdk?.uninstall();
  });

  it('counts swept, skipped and failed runs; the backlog is the expired sessions a run could not take', async () => {
    const service = t.app.get(ResumableUploadService);
    const store = t.app.get(ResumableSessionStore);
    const cleanup = t.app.get(StaleUploadCleanupService);
    const expire = async () => {
      const { uploadId } = await service.start({ totalSize: 4 });
      const session = await service.getSession(uploadId, {}, { providerState: true });
      await store.update({ ...session, expiresAt: Date.now() - 1000 });
      return uploadId;
    };
    // Two expired sessions; a writer holds the lock of one of them, so the run leaves it for the next.
    await expire();
    const busy = await expire();
    const lease = await t.app.get(UploadLocker).acquire(busy, { waitMs: 0, requestRelease: false });
    const first = await cleanup.runOnce();
    expect([first.expired, first.errors, first.skipped]).toEqual([1, 0, false]);
    let collected = await sdk.collect();
    expect(collected.sum(M.cleanupRuns, { outcome: 'swept' })).toBe(1);
    expect(collected.sum(M.cleanupBacklog)).toBe(1);
    expect(collected.sum(M.uploadsExpired, { transport: 'api', provider: 'local' })).toBe(1);

    lock.state = 'held';
    expect((await cleanup.runOnce()).skipped).toBe(true);
    lock.state = 'down';
    expect((await cleanup.runOnce()).errors).toBe(1);
    collected = await sdk.collect();
    expect(collected.sum(M.cleanupRuns, { outcome: 'skipped' })).toBe(1);
    expect(collected.sum(M.cleanupRuns, { outcome: 'failed' })).toBe(1);

    await lease.release();
    lock.state = 'free';
    expect((await cleanup.runOnce()).expired).toBe(1);
    collected = await sdk.collect();
    expect(collected.sum(M.cleanupRuns, { outcome: 'swept' })).toBe(2);
    expect(collected.sum(M.cleanupBacklog)).toBe(0);
    expect(collected.sum(M.uploadsExpired)).toBe(2);
  });
});
