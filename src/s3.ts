// Subpath entry `@vali-blob/nestjs/s3`: the S3-compatible provider. Kept out of the root entry so apps that do
// not use S3 never load `@aws-sdk/client-s3` (an optional peer dependency).
export { S3StorageProvider } from './storage/s3/s3-storage.provider';
export type { S3StorageOptions } from './storage/s3/s3-storage.options';
export { choosePartSize, S3_MAX_PARTS, S3_MIN_PART_SIZE } from './storage/s3/s3-part-size';
