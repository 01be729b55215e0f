/**
 * Shape checks of the pluggable option values (stores, lockers, cleanup locks) used by the validator. They are
 * duck-typed, not `instanceof`, so instances from another copy of the package (two installs in one app) still
 * pass.
 */

/** Whether a value is a `{ useClass | useExisting | useFactory }` recipe. */
export function isRecipeShape(v: Record<string, unknown>): boolean {
  return typeof v.useClass === 'function' || 'useExisting' in v || typeof v.useFactory === 'function';
}

/** Every method of the `ResumableSessionStore` contract. */
const STORE_METHODS = ['save', 'get', 'update', 'delete', 'advance', 'find', 'deleteMany', 'findExpired', 'ping'];

/** `sessionStore`: `'memory'`, `{ type: 'memory' | 'typeorm' }`, a recipe, or a store instance. */
export function isSessionStoreConfig(value: unknown): boolean {
  if (value === 'memory') return true;
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  if (v.type === 'memory' || v.type === 'typeorm') return true;
  if (isRecipeShape(v)) return true;
  return STORE_METHODS.every((method) => typeof v[method] === 'function');
}

/** `cleanup.lock`: a `CleanupLock` instance (has `tryAcquire`) or a recipe. */
export function isCleanupLockConfig(value: unknown): boolean {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.tryAcquire === 'function' || isRecipeShape(v);
}

/** `lock.locker`: an `UploadLocker` instance (has `acquire`) or a recipe. */
export function isUploadLockerConfig(value: unknown): boolean {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.acquire === 'function' || isRecipeShape(v);
}
