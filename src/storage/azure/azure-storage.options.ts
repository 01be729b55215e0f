import type { ContainerClient, StoragePipelineOptions } from '@azure/storage-blob';

/**
 * Options of `AzureBlobStorageProvider`. Give either `containerClient` or `connectionString` + `containerName`.
 * @publicApi
 */
export interface AzureBlobStorageOptions {
  /** A ready container client (its credential decides whether SAS URLs can be made). */
  containerClient?: ContainerClient;
  /** Storage account connection string (with an account key SAS presigning works). */
  connectionString?: string;
  /** Container that holds every blob (must exist). */
  containerName?: string;
  /** Pipeline options when the client is built from `connectionString` (retries, proxy). */
  pipelineOptions?: StoragePipelineOptions;
  /**
   * Largest block staged per request, buffered in memory.
   * @default 8 MiB
   */
  blockSize?: number;
  /**
   * Block uploads in flight at once across all uploads of this provider. Memory ≈ (this + 1) × blockSize.
   * @default 4
   */
  maxConcurrentBlocks?: number;
}
