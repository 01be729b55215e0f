// Subpath entry `@vali-blob/nestjs/azure`: the Azure Blob Storage provider. Kept out of the root entry so apps
// that do not use Azure never load `@azure/storage-blob` (an optional peer dependency).
export { AzureBlobStorageProvider } from './storage/azure/azure-blob-storage.provider';
export type { AzureBlobStorageOptions } from './storage/azure/azure-storage.options';
export { AZURE_MAX_BLOCKS } from './storage/azure/azure-block-id';
