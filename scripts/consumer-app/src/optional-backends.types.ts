// Type-only imports from the subpaths whose peers this app does not install (ioredis, the AWS SDK, Azure) and from
// the contract-test helpers: they must resolve, with types, under every moduleResolution mode.
import type { AzureBlobStorageProvider } from '@vali-blob/nestjs/azure';
import type { RedisSessionStore } from '@vali-blob/nestjs/redis';
import type { S3StorageProvider } from '@vali-blob/nestjs/s3';
import type { SessionStoreFixture, StorageProviderFixture } from '@vali-blob/nestjs/testing';

export interface OptionalBackends {
  redis?: RedisSessionStore;
  s3?: S3StorageProvider;
  azure?: AzureBlobStorageProvider;
  sessionFixture?: SessionStoreFixture;
  storageFixture?: StorageProviderFixture;
}
