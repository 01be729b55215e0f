import { BlobNotFoundError } from '../../errors/vali-blob.errors';

/** How one backend's SDK errors read: "no such blob", and how anything else becomes a typed error. */
export interface BackendErrors {
  /** Whether the error says the addressed blob (object, key) does not exist. */
  isNotFound(error: unknown): boolean;
  /** Our typed errors unchanged; anything unexpected as `StorageUnavailableError` (503) naming `action`. */
  toStorageError(error: unknown, action: string): Error;
}

/**
 * Run one SDK call of a remote backend (S3, Azure), mapping "not found" on `notFoundPath` to `BlobNotFoundError`
 * and every other failure through `errors.toStorageError` (503, the SDK error as `cause`). Without
 * `notFoundPath`, "not found" is mapped like any other failure.
 */
export async function backendCall<T>(
  errors: BackendErrors,
  action: string,
  run: () => Promise<T>,
  notFoundPath?: string,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (notFoundPath !== undefined && errors.isNotFound(error)) throw new BlobNotFoundError(notFoundPath);
    throw errors.toStorageError(error, action);
  }
}
