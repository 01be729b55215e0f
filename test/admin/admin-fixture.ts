import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  LocalStorageProvider,
  MemoryStorageProvider,
  ResumableSessionStore,
  ResumableState,
  ResumableUploadService,
  StorageProvider,
  StorageRegistry,
  UploadAdminService,
  UploadEvents,
  UploadQuotaService,
  UploadSession,
  ValiBlobModule,
  ValiBlobModuleOptions,
} from '../../src';

/** A memory provider whose `abortUpload` fails while `failAbort` is set (a provider outage while freeing). */
export class FlakyAbortProvider extends MemoryStorageProvider {
  failAbort = false;

  override async abortUpload(state: ResumableState): Promise<void> {
    if (this.failAbort) throw new Error('provider down');
    return super.abortUpload(state);
  }
}

/** One booted app for the admin suites: local (`local`), memory (`mem`) and failing (`flaky`) providers. */
export interface AdminApp {
  app: INestApplication;
  uploads: ResumableUploadService;
  admin: UploadAdminService;
  store: ResumableSessionStore;
  quota: UploadQuotaService;
  local: LocalStorageProvider;
  mem: MemoryStorageProvider;
  flaky: FlakyAbortProvider;
  /** Ids of every `upload.aborted` event, in order. */
  abortedEvents: string[];
  close(): Promise<void>;
}

/** Quota per owner in the admin suites (enough for every test's uploads). */
export const QUOTA_BYTES = 1024 ** 3;

/** Boot a real Nest app (lifecycle hooks run) on a local storage root and the given store; quotas on. */
export async function bootAdminApp(
  root: string,
  store: ResumableSessionStore,
  options: Partial<ValiBlobModuleOptions> = {},
  extraProviders: Record<string, StorageProvider> = {},
): Promise<AdminApp> {
  const flaky = new FlakyAbortProvider();
  const moduleRef = await Test.createTestingModule({
    imports: [
      ValiBlobModule.forRoot({
        providers: { local: { root, fsync: false }, mem: { type: 'memory' }, flaky, ...extraProviders },
        defaultProvider: 'local',
        sessionStore: store,
        cleanup: { enabled: false },
        policy: { quota: { maxBytes: QUOTA_BYTES } },
        ...options,
        http: { tus: false, rest: false },
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  await app.init();
  const abortedEvents: string[] = [];
  app.get(UploadEvents).on('upload.aborted', ({ session }) => void abortedEvents.push(session.uploadId));
  const registry = app.get(StorageRegistry);
  return {
    app,
    uploads: app.get(ResumableUploadService),
    admin: app.get(UploadAdminService),
    store,
    quota: app.get(UploadQuotaService),
    local: registry.get('local') as LocalStorageProvider,
    mem: registry.get('mem') as MemoryStorageProvider,
    flaky,
    abortedEvents,
    close: () => app.close(),
  };
}

/** What `startUpload` creates. */
export interface StartSpec {
  path: string;
  owner?: string;
  provider?: string;
  totalSize?: number;
  /** Bytes to write at once (0 = none). */
  bytes?: number;
  /** Write every byte and complete. */
  complete?: boolean;
}

/** Start an upload (in-process, as `owner`) and write some bytes; returns its id. */
export async function startUpload(uploads: ResumableUploadService, spec: StartSpec): Promise<string> {
  const totalSize = spec.totalSize ?? 100;
  const session = await uploads.start({
    path: spec.path,
    owner: spec.owner,
    provider: spec.provider,
    totalSize,
  });
  const bytes = spec.complete ? totalSize : (spec.bytes ?? 0);
  if (bytes > 0) {
    await uploads.uploadChunk({
      uploadId: session.uploadId,
      offset: 0,
      body: Readable.from([randomBytes(bytes)]),
      contentLength: bytes,
      owner: spec.owner,
    });
  }
  if (spec.complete) await uploads.complete(session.uploadId);
  return session.uploadId;
}

/** Change stored fields of a session (ages, expiry), as time passing would. */
export async function rewrite(
  store: ResumableSessionStore,
  uploadId: string,
  change: Partial<UploadSession>,
): Promise<UploadSession> {
  const session = await store.get(uploadId);
  if (!session) throw new Error(`no session ${uploadId}`);
  return (await store.update({ ...session, ...change }))!;
}

/** A random path segment, so suites sharing a store never collide. */
export const tag = (): string => randomBytes(4).toString('hex');

/** Whether a file exists. */
export async function fileExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
