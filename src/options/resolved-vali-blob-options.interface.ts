import type { AuthorizeHook } from './authorize-hook.interface';
import type { SessionStoreConfig, StorageProviderConfig } from './pluggable-config.interface';
import type { ChecksumAlgorithm } from '../uploads/upload-checksum';
import type { CleanupOptions, LockOptions, TusOptions } from './vali-blob-options.interface';
import type { UploadPolicyOptions } from './upload-policy-options.interface';

/**
 * Options after defaults and validation: what the services receive (inject `VALIBLOB_OPTIONS`).
 *
 * @publicApi
 */
export interface ResolvedValiBlobOptions {
  defaultProvider: string;
  providers: Record<string, StorageProviderConfig>;
  sessionStore: SessionStoreConfig;
  maxUploadSize: number;
  sessionExpiration: number;
  completedRetention: number;
  checksumAlgorithms: ChecksumAlgorithm[];
  wholeFileChecksum: boolean;
  digestThreads: number;
  idleTimeoutMs: number;
  storeTimeoutMs: number;
  maxConcurrentWrites: number;
  cleanup: Required<Omit<CleanupOptions, 'lock'>> & Pick<CleanupOptions, 'lock'>;
  authorize?: AuthorizeHook;
  /** Owner scope with its prefix function, or `null` when off. */
  ownerScope: { prefix: (ownerId: string) => string } | null;
  lock: { waitMs: number; requestRelease: boolean; scope: 'store' | 'process'; locker?: LockOptions['locker'] };
  tus: Required<Omit<TusOptions, 'baseUrl' | 'naming'>> & Pick<TusOptions, 'baseUrl' | 'naming'>;
  /** The upload policy as given (validated; recipes are built by `createUploadPolicy`), `null` when none. */
  policy: UploadPolicyOptions | null;
}
