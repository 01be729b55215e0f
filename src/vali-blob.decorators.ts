import { Inject } from '@nestjs/common';
import { ResumableSessionStore } from './sessions/resumable-session-store';
import { StorageProvider } from './storage/storage-provider';
import { STORAGE_TOKEN_PREFIX } from './vali-blob.constants';

/**
 * Token of a named storage provider, paired with `@InjectStorage(name)`. A pure function: the module registers
 * a token for every name it knows statically (`forRoot`: the keys of `providers`; `forRootAsync`: its
 * `storageNames`), so injecting a name it does not know fails bootstrap with Nest's missing-provider error
 * naming this token.
 *
 * @publicApi
 */
export function getStorageToken(name: string): string {
  return `${STORAGE_TOKEN_PREFIX}${name}`;
}

/**
 * Inject a storage provider by name, or the default one when no name is given.
 *
 * @publicApi
 */
export function InjectStorage(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(name === undefined ? StorageProvider : getStorageToken(name));
}

/**
 * Inject the configured session store.
 *
 * @publicApi
 */
export function InjectSessionStore(): PropertyDecorator & ParameterDecorator {
  return Inject(ResumableSessionStore);
}
