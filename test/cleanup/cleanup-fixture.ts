import { DynamicModule, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  LocalStorageProvider,
  ResumableSessionStore,
  ResumableUploadService,
  StorageRegistry,
  UploadEvents,
  UploadSession,
  UploadStatus,
  ValiBlobModule,
  ValiBlobModuleOptions,
} from '../../src';
import { StaleUploadCleanupService } from '../../src/cleanup/stale-upload-cleanup.service';

/** One booted app for the cleanup suites, with the `upload.expired` ids it emitted. */
export interface CleanupApp {
  app: INestApplication;
  uploads: ResumableUploadService;
  cleanup: StaleUploadCleanupService;
  storage: LocalStorageProvider;
  expiredEvents: string[];
}

/** Boot a real Nest app (lifecycle hooks run) on a local storage root and the given store. */
export async function bootCleanupApp(
  root: string,
  store: ResumableSessionStore,
  options: Partial<ValiBlobModuleOptions> = {},
  imports: DynamicModule[] = [],
): Promise<CleanupApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ...imports,
      ValiBlobModule.forRoot({
        providers: { local: { root } },
        sessionStore: store,
        cleanup: { enabled: false },
        ...options,
        http: { tus: false, rest: false },
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  await app.init();
  const expiredEvents: string[] = [];
  app.get(UploadEvents).on('upload.expired', ({ session }) => void expiredEvents.push(session.uploadId));
  return {
    app,
    uploads: app.get(ResumableUploadService),
    cleanup: app.get(StaleUploadCleanupService),
    storage: app.get(StorageRegistry).get('local') as LocalStorageProvider,
    expiredEvents,
  };
}

/** Start an upload and store `bytes` of its data (a staging file now exists). */
export async function startWithData(
  uploads: ResumableUploadService,
  totalSize: number,
  bytes: number,
): Promise<string> {
  const session = await uploads.start({ totalSize, path: `t/${randomBytes(6).toString('hex')}.bin` });
  if (bytes > 0) {
    await uploads.uploadChunk({
      uploadId: session.uploadId,
      offset: 0,
      body: Readable.from([randomBytes(bytes)]),
      contentLength: bytes,
    });
  }
  return session.uploadId;
}

/** Move a session's expiry into the past (and optionally change its status), as time passing would. */
export async function expire(
  store: ResumableSessionStore,
  uploadId: string,
  change: Partial<Pick<UploadSession, 'status' | 'providerState'>> = {},
  agoMs = 60_000,
): Promise<UploadSession> {
  const session = await store.get(uploadId);
  if (!session) throw new Error(`no session ${uploadId}`);
  const updated = await store.update({ ...session, ...change, expiresAt: Date.now() - agoMs });
  return updated!;
}

/** A session record written straight into the store (no provider data), already expired. */
export function expiredSession(overrides: Partial<UploadSession> = {}): UploadSession {
  const now = Date.now();
  return {
    uploadId: randomBytes(18).toString('base64url'),
    path: `bulk/${randomBytes(6).toString('hex')}`,
    provider: 'local',
    totalSize: 10,
    uploadedBytes: 0,
    contentType: null,
    metadata: {},
    ownerId: null,
    status: UploadStatus.InProgress,
    createdAt: now - 120_000,
    updatedAt: now - 120_000,
    expiresAt: now - 60_000,
    version: 1,
    providerState: null,
    checksum: null,
    partial: false,
    parts: null,
    fence: 0,
    conflict: 'fail',
    ...overrides,
  };
}

/** Whether a file exists. */
export async function fileExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
