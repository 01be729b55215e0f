import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Semaphore } from '../common/semaphore';
import { S3_MAX_PARTS } from './s3-part-size';

/**
 * Options of `S3StorageProvider`.
 * @publicApi
 */
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
  /**
   * Preferred part size (never below 5 MiB; grown so an upload fits in `maxParts`).
   * @default 8 MiB
   */
  partSize?: number;
  /**
   * Most parts per upload (Scaleway allows 1,000).
   * @default 10_000
   */
  maxParts?: number;
  /**
   * Size assumed for uploads whose length is deferred, to choose their part size (1 TiB means ~105 MiB parts).
   * Larger deferred uploads fail with `SIZE_EXCEEDED` once they would need too many parts.
   * @default 1 TiB
   */
  deferredLengthMaxSize?: number;
  /**
   * Part uploads in flight at once across all uploads of this provider.
   * @default 4
   */
  maxConcurrentParts?: number;
  /**
   * Directory for part buffers. Needs about (concurrency + uploads) × part size.
   * @default `<os tmpdir>/valiblob-s3`
   */
  tempDirectory?: string;
}

const MiB = 1024 * 1024;
const TiB = 1024 * 1024 * MiB;

/** `S3StorageOptions` with every default applied: what the whole-object put and the resumable path share. */
export interface S3Settings {
  /** Preferred part size, as given (the resumable path never goes below 5 MiB through `choosePartSize`). */
  partSize: number;
  maxParts: number;
  /** Size assumed for deferred-length uploads when choosing their part size. */
  deferredMaxSize: number;
  /** Caps part uploads in flight across every upload of the provider. */
  limiter: Semaphore;
  /** Where parts are spooled. */
  tempDirectory: string;
}

/** Apply the defaults of `S3StorageOptions`. */
export function resolveS3Settings(options: S3StorageOptions): S3Settings {
  return {
    partSize: options.partSize ?? 8 * MiB,
    maxParts: options.maxParts ?? S3_MAX_PARTS,
    deferredMaxSize: options.deferredLengthMaxSize ?? TiB,
    limiter: new Semaphore(options.maxConcurrentParts ?? 4),
    tempDirectory: options.tempDirectory ?? join(tmpdir(), 'valiblob-s3'),
  };
}
