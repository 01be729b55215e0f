// Public surface of @vali-blob/nestjs. Optional-peer integrations (TypeORM, Redis, S3, Azure, Terminus) live
// in their own subpaths so importing this entry never loads their SDKs.
export { ValiBlobModule } from './vali-blob.module';
export { VALIBLOB_MODULE_OPTIONS } from './vali-blob.module-definition';
export type {
  ValiBlobForRootAsyncOptions,
  ValiBlobForRootOptions,
  ValiBlobModuleExtras,
  ValiBlobOptionsFactory,
} from './vali-blob.module-definition';
export { getStorageToken, InjectStorage, InjectSessionStore } from './vali-blob.decorators';
export { VALIBLOB_OPTIONS, TUS_VERSION } from './vali-blob.constants';
export { VALIBLOB_DEFAULTS, resolveValiBlobOptions, defaultOwnerPrefix } from './vali-blob.options';
export { CONFLICT_POLICIES, MAX_RENAME_ATTEMPTS } from './uploads/conflict-policy';
export type { ConflictPolicy } from './uploads/conflict-policy';
export { OwnerSpace, OWNER_ID_PATTERN } from './uploads/owner-scope';
export type {
  AuthorizeContext,
  AuthorizeHook,
  AuthorizeResult,
  ClassOrFactoryConfig,
  CleanupOptions,
  LocalProviderConfig,
  LockOptions,
  MemoryProviderConfig,
  OwnerScopeOptions,
  ResolvedValiBlobOptions,
  SessionStoreConfig,
  StorageProviderConfig,
  TusNamingInput,
  TusOptions,
  UploadAction,
  ValiBlobHttpOptions,
  ValiBlobModuleOptions,
} from './vali-blob.options';
export * from './errors/vali-blob.errors';

export { StorageProvider } from './storage/storage-provider';
export type {
  BeginUploadRequest,
  BlobInfo,
  BlobReadResult,
  ByteRange,
  CompleteUploadRequest,
  ListOptions,
  ListPage,
  PresignOptions,
  PutOptions,
  ResumableState,
  WriteChunkOptions,
  WriteChunkResult,
} from './storage/storage-provider';
export { StorageRegistry } from './storage/storage.registry';
export { LocalStorageProvider } from './storage/local/local-storage.provider';
export type { LocalStorageOptions } from './storage/local/local-storage.provider';
export { MemoryStorageProvider } from './storage/memory/memory-storage.provider';
export { validateBlobPath, validateBlobPrefix, sanitizeFileName } from './storage/blob-path';
export { normalizeMetadata, toBlobMetadata, resolveRange } from './storage/storage-helpers';

export { UploadStatus, ACTIVE_STATUSES, TERMINAL_STATUSES, cloneSession } from './sessions/upload-session.model';
export type { UploadSession, SessionPatch, SessionFilter, SessionPage } from './sessions/upload-session.model';
export { ResumableSessionStore } from './sessions/resumable-session-store';
export { MemorySessionStore } from './sessions/memory/memory-session.store';
export { matchesSessionFilter, encodeCursor, decodeCursor } from './sessions/session-filter';

export { UploadQuotaStore } from './policy/quota/upload-quota.store';
export type { QuotaUsage } from './policy/quota/upload-quota.store';
export { MemoryQuotaStore } from './policy/quota/memory-quota.store';

export { StaleUploadCleanupService, CLEANUP_JOB_NAME } from './cleanup/stale-upload-cleanup.service';
export { CleanupLock } from './cleanup/cleanup-lock';
export type { CleanupLockHandle } from './cleanup/cleanup-lock';
export type { CleanupReport } from './cleanup/cleanup-report';
export { ProcessCleanupLock } from './cleanup/locks/process-cleanup.lock';

// Admin API (docs/admin.md): find and purge uploads by filter.
export { UploadAdminService } from './admin/upload-admin.service';
export { EmptyPurgeFilterError } from './admin/admin.errors';
export type { AdminUploadView } from './admin/admin-upload.view';
export type { AdminUploadFilter, AdminUploadPage, AdminUploadQuery } from './admin/admin-upload.query';
export type { AdminPurgeFailure, AdminPurgeOptions, AdminPurgeReport } from './admin/admin-purge.types';
export type { AdminAuthorizeHook } from './admin/admin-authorize';
export { VALIBLOB_METRICS, VALIBLOB_SPANS, VALIBLOB_TELEMETRY_SCOPE } from './telemetry/telemetry.names';

export { UploadLocker } from './locking/upload-locker';
export type { UploadLease, AcquireOptions } from './locking/upload-locker';
export { MemoryUploadLocker } from './locking/memory/memory-upload.locker';
export { processLocalLocks } from './locking/store-locks';
export type { StoreLocks } from './locking/store-locks';

export { ResumableUploadService } from './uploads/resumable-upload.service';
export type {
  CallerContext,
  ChunkResult,
  CompleteResult,
  IncludeProviderState,
  StartUploadInput,
  UploadChunkInput,
  UploadSessionRecord,
} from './uploads/resumable-upload.types';
export { UploadEvents, UPLOAD_EVENTS } from './uploads/upload.events';
export { ShutdownInterruptedError } from './uploads/write-slots';
export type { UploadEventMap, UploadEventName } from './uploads/upload.events';
export type { UploadSessionView } from './uploads/upload-session.view';
export { CHECKSUM_ALGORITHMS } from './uploads/upload-checksum';
export type { ChecksumAlgorithm, ChunkChecksum } from './uploads/upload-checksum';

// Upload policy (docs/policy.md): hooks, validation, sniffing, virus scanning, quotas.
export type {
  UploadTransport,
  UploadSubject,
  UploadCreateContext,
  UploadCreateDecision,
  UploadFirstBytesContext,
  UploadPublishContext,
  UploadPolicyHooks,
} from './policy/upload-policy.interfaces';
export type {
  UploadPolicyOptions,
  UploadValidationOptions,
  ContentTypeSniffOptions,
  VirusScanOptions,
  QuotaOptions,
  SubjectLimit,
} from './options/upload-policy-options.interface';
export { VirusScanner } from './policy/virus-scanner';
export type { VirusScanResult, VirusScanTarget } from './policy/virus-scanner';
export { UploadQuotaService } from './policy/quota/upload-quota.service';
export { ClamAvScanner } from './policy/clamav.scanner';
export { parseClamdAddress, CLAMAV_SCANNER_DEFAULTS } from './policy/clamav-scanner.options';
export type { ClamAvScannerOptions, ClamdAddress } from './policy/clamav-scanner.options';
export { ScannerUnavailableError } from './policy/scanner-unavailable.error';
export type { ScannerUnavailableReason } from './policy/scanner-unavailable.error';
