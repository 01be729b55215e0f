import { Logger, Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CleanupLock } from '../cleanup/cleanup-lock';
import { isRecipe, recipeToProvider, resolveRecipe } from '../common/provider-recipe';
import { ResumableSessionStore } from '../sessions/resumable-session-store';
import { VALIBLOB_OPTIONS } from '../vali-blob.constants';
import type { ResolvedValiBlobOptions } from '../vali-blob.options';
import { processLocalLocks, StoreLocks } from './store-locks';
import { UploadLocker } from './upload-locker';

/** Internal token: the default locks of this module (the store's, or process-local), chosen once. */
const VALIBLOB_DEFAULT_LOCKS = 'VALIBLOB:DEFAULT_LOCKS';

/** The default locks, chosen lazily (once, and only when a lock the app did not name is asked for). */
interface DefaultLocks {
  get(): Promise<StoreLocks>;
}

const logger = new Logger('ValiBlob');

/**
 * Choose the locks the app did not name: `lock.scope: 'process'` → process-local; otherwise the session store's
 * own (`createLocks()`: TypeORM → SQL, Redis → Redis, memory → process-local). A store that offers none (a
 * custom store) gets process-local locks and a warning, because with a store several instances share, two
 * writers could then change one upload at once.
 */
async function chooseDefaultLocks(options: ResolvedValiBlobOptions, store: ResumableSessionStore): Promise<StoreLocks> {
  const missing = [!options.lock.locker && 'lock.locker', !options.cleanup.lock && 'cleanup.lock'].filter(Boolean);
  if (options.lock.scope === 'process' || missing.length === 0) return processLocalLocks();
  // Duck-typed stores (e.g. from another copy of the package) may lack the method.
  const offered = typeof store.createLocks === 'function' ? store.createLocks() : null;
  if (offered) {
    logger.log(`Locks follow the session store: ${offered.description}`);
    return offered;
  }
  logger.warn(
    `The session store ${store.constructor?.name ?? 'in use'} offers no shared locks, so ${missing.join(' and ')} ` +
      'fall back to process-local locks. If several instances share this store, two writers can corrupt an ' +
      "upload: set lock.locker and cleanup.lock (SqlUploadLocker / RedisUploadLocker, …) or implement the store's " +
      "createLocks(). For a single instance, set lock: { scope: 'process' } to say so and silence this warning.",
  );
  return processLocalLocks();
}

/**
 * Providers of `UploadLocker` and `CleanupLock`: what the app named (instance or recipe), else the default locks.
 * `staticLocker` is `forRoot`'s locker recipe, registered as a real provider so its dependencies come first.
 */
export function createLockProviders(staticLocker: unknown): Provider[] {
  const defaults: Provider = {
    provide: VALIBLOB_DEFAULT_LOCKS,
    useFactory: (options: ResolvedValiBlobOptions, store: ResumableSessionStore): DefaultLocks => {
      let chosen: Promise<StoreLocks> | undefined;
      return { get: () => (chosen ??= chooseDefaultLocks(options, store)) };
    },
    inject: [VALIBLOB_OPTIONS, ResumableSessionStore],
  };
  const uploadLocker: Provider = isRecipe<UploadLocker>(staticLocker)
    ? recipeToProvider(UploadLocker, staticLocker)
    : {
        provide: UploadLocker,
        useFactory: (options: ResolvedValiBlobOptions, locks: DefaultLocks, moduleRef: ModuleRef) =>
          pick(options.lock.locker, locks, moduleRef, UploadLocker, (chosen) => chosen.uploadLocker),
        inject: [VALIBLOB_OPTIONS, VALIBLOB_DEFAULT_LOCKS, ModuleRef],
      };
  const cleanupLock: Provider = {
    provide: CleanupLock,
    useFactory: (options: ResolvedValiBlobOptions, locks: DefaultLocks, moduleRef: ModuleRef) =>
      pick(options.cleanup.lock, locks, moduleRef, CleanupLock, (chosen) => chosen.cleanupLock),
    inject: [VALIBLOB_OPTIONS, VALIBLOB_DEFAULT_LOCKS, ModuleRef],
  };
  return [defaults, uploadLocker, cleanupLock];
}

async function pick<T extends object>(
  named: unknown,
  locks: DefaultLocks,
  moduleRef: ModuleRef,
  base: abstract new (...args: never[]) => T,
  part: (chosen: StoreLocks) => unknown,
): Promise<T> {
  // A recipe that is not a provider of its own (cleanup.lock; lock.locker under forRootAsync) is built here by
  // Nest's injector (see resolveRecipe).
  if (named) return isRecipe<T>(named) ? resolveRecipe(named, moduleRef, base.name) : (named as T);
  return part(await locks.get()) as T;
}
