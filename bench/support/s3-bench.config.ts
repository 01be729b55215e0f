import type { S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * S3 client settings of the cloud benchmark's servers, from env: `S3_ENDPOINT`, `S3_REGION` (default us-east-1),
 * `S3_ACCESS_KEY` / `S3_SECRET_KEY` (default s3rver's), path-style addressing unless `S3_FORCE_PATH_STYLE=false`,
 * and checksums only where an operation requires them (s3rver rejects the SDK's default CRC trailers).
 */
export function s3BenchConfig(): S3ClientConfig {
  return {
    endpoint: process.env.S3_ENDPOINT,
    region: process.env.S3_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: process.env.S3_ACCESS_KEY ?? 'S3RVER',
      secretAccessKey: process.env.S3_SECRET_KEY ?? 'S3RVER',
    },
    forcePathStyle: process.env.S3_FORCE_PATH_STYLE !== 'false',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}
