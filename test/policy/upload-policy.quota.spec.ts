import { Test, TestingModule } from '@nestjs/testing';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  ResumableSessionStore,
  ResumableUploadService,
  StaleUploadCleanupService,
  UploadQuotaService,
  ValiBlobModule,
} from '../../src';
import { POLICY_BACKENDS } from './policy-backends';

/** Quotas on deferred lengths and on expiry, on every store (the engine spec covers create/complete/abort). */
describe.each(POLICY_BACKENDS)('upload quotas (deferred length, expiry) on $name', (backend) => {
  let root: string;
  let moduleRef: TestingModule | undefined;
  let uploads: ResumableUploadService;
  let quota: UploadQuotaService;
  let store: ResumableSessionStore;
  let closeStore: (() => Promise<void>) | undefined;

  async function boot(): Promise<boolean> {
    const opened = await backend.open();
    if (!opened) return false;
    ({ store, close: closeStore } = opened);
    root = mkdtempSync(join(tmpdir(), 'valiblob-quota-'));
    moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { local: { root } },
          sessionStore: store,
          policy: { quota: { maxBytes: 1000 } },
          cleanup: { enabled: false },
          http: { tus: false, rest: false },
        }),
      ],
    }).compile();
    await moduleRef.init();
    uploads = moduleRef.get(ResumableUploadService);
    quota = moduleRef.get(UploadQuotaService);
    return true;
  }

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
    await closeStore?.();
    closeStore = undefined;
    if (root) await rm(root, { recursive: true, force: true });
  });

  const chunk = (uploadId: string, offset: number, size: number, declareTotalSize?: number) =>
    uploads.uploadChunk({
      uploadId,
      offset,
      body: Readable.from([Buffer.alloc(size, 1)]),
      owner: 'carol',
      declareTotalSize,
    });

  it('a deferred-length upload holds what it streamed; a chunk past the quota is 413 and discarded', async () => {
    if (!(await boot())) return;
    const session = await uploads.start({ path: 'd/a', totalSize: null, owner: 'carol' });
    expect(await quota.usage('carol')).toMatchObject({ usedBytes: 0, reservedBytes: 0 });
    await chunk(session.uploadId, 0, 600);
    expect(await quota.usage('carol')).toMatchObject({ reservedBytes: 600 });
    const over = await chunk(session.uploadId, 600, 500).catch((e) => e);
    expect(over).toMatchObject({ status: 413, code: 'QUOTA_EXCEEDED' });
    // Not final: the chunk was discarded, the upload goes on within its budget.
    expect(await uploads.getStatus(session.uploadId, { owner: 'carol' })).toMatchObject({
      status: 'InProgress',
      uploadedBytes: 600,
    });
    await chunk(session.uploadId, 600, 400, 1000);
    await uploads.complete(session.uploadId, { owner: 'carol' });
    expect(await quota.usage('carol')).toMatchObject({ usedBytes: 1000, reservedBytes: 0 });
  });

  it('an upload that expires unfinished gives its reservation back when cleanup removes it', async () => {
    if (!(await boot())) return;
    const session = await uploads.start({ path: 'd/b', totalSize: 700, owner: 'carol' });
    expect(await quota.usage('carol')).toMatchObject({ reservedBytes: 700 });
    const stored = (await store.get(session.uploadId))!;
    await store.update({ ...stored, expiresAt: Date.now() - 1000 });
    const report = await moduleRef!.get(StaleUploadCleanupService).runOnce();
    expect(report.expired).toBe(1);
    expect(await quota.usage('carol')).toMatchObject({ usedBytes: 0, reservedBytes: 0 });
  });
});
