import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

/** Options of `S3StorageProvider`. */
export interface S3StorageOptions {
  /** Bucket that holds every blob (must exist). */
  bucket: string;
  /** A ready client (shared with the app). When omitted, one is built from `clientConfig`. */
  client?: S3Client;
  /**
   * Client settings when no `client` is given. For MinIO, s3rver and most S3-compatible stores set `endpoint`
   * and `forcePathStyle: true`; for s3rver also `requestChecksumCalculation: 'WHEN_REQUIRED'`.
   */
  clientConfig?: S3ClientConfig;
  /** Preferred part size (default 8 MiB, never below 5 MiB; grown so an upload fits in `maxParts`). */
  partSize?: number;
  /** Most parts per upload (default 10,000; Scaleway allows 1,000). */
  maxParts?: number;
  /**
   * Size assumed for uploads whose length is deferred, to choose their part size (default 1 TiB, which means
   * ~105 MiB parts). Larger deferred uploads fail with `SIZE_EXCEEDED` once they would need too many parts.
   */
  deferredLengthMaxSize?: number;
  /** Part uploads in flight at once across all uploads of this provider (default 4). */
  maxConcurrentParts?: number;
  /** Directory for part buffers (default `<os tmpdir>/valiblob-s3`). Needs about (concurrency + uploads) × part size. */
  tempDirectory?: string;
}
