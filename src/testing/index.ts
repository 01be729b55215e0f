// Test helpers for store and provider authors: the shared contract suites (run them inside jest).
export { runSessionStoreContract, makeTestSession } from './session-store.contract';
export type { SessionStoreContractOptions, SessionStoreFixture } from './session-store.contract';
export { runStorageProviderContract, readAll } from './storage-provider.contract';
export type { StorageProviderFixture, StorageProviderContractOptions } from './storage-provider.contract';
export { runQuotaStoreContract } from './quota-store.contract';
export type { QuotaStoreFixture } from './quota-store.contract';
