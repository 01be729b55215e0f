import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { checkPresignRequest } from '../common/presign-limits';
import type { PresignOptions } from '../storage-provider';
import type { S3Bucket } from './s3-bucket';

/** `presign` of the S3 provider: a presigned GetObject or PutObject URL (the content type is signed for PUT). */
export async function presignObject(bucket: S3Bucket, path: string, options: PresignOptions): Promise<string> {
  checkPresignRequest(path, options);
  const command =
    options.method === 'PUT'
      ? new PutObjectCommand({ Bucket: bucket.name, Key: path, ContentType: options.contentType })
      : new GetObjectCommand({ Bucket: bucket.name, Key: path });
  return getSignedUrl(bucket.client, command, { expiresIn: options.expiresInSeconds });
}
