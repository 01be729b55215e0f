import { Inject } from '@nestjs/common';
import { ResumableSessionStore } from './sessions/resumable-session-store';
import { StorageProvider } from './storage/storage-provider';
import { getStorageToken } from './vali-blob.module-definition';

/** Inject a storage provider by name, or the default one when no name is given. */
export function InjectStorage(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(name === undefined ? StorageProvider : getStorageToken(name));
}

/** Inject the configured session store. */
export function InjectSessionStore(): PropertyDecorator & ParameterDecorator {
  return Inject(ResumableSessionStore);
}
