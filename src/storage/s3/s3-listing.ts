import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { RESERVED_SEGMENT, validateBlobPrefix } from '../blob-path';
import { remoteBlobInfo } from '../common/remote-blob-info';
import { decodeListCursor, encodeListCursor, listLimit } from '../storage-helpers';
import type { BlobInfo, ListOptions, ListPage } from '../storage-provider';
import type { S3Bucket } from './s3-bucket';
import { s3Call } from './s3-errors';

/**
 * `list` of the S3 provider: ListObjectsV2 pages in key order, the cursor being the last key returned
 * (`StartAfter`), with the reserved `.valiblob/` area left out.
 */
export async function listObjects(bucket: S3Bucket, prefix: string, options: ListOptions): Promise<ListPage> {
  const cleanPrefix = validateBlobPrefix(prefix);
  const limit = listLimit(options.limit);
  let startAfter = decodeListCursor(options.cursor);
  const items: BlobInfo[] = [];
  // Loop only to step over the reserved area (listing from the bucket root); each round is one request.
  for (;;) {
    const page = await s3Call('ListObjectsV2', () =>
      bucket.client.send(
        new ListObjectsV2Command({
          Bucket: bucket.name,
          Prefix: cleanPrefix || undefined,
          StartAfter: startAfter,
          MaxKeys: limit - items.length,
        }),
      ),
    );
    const contents = page.Contents ?? [];
    for (const object of contents) {
      const key = object.Key!;
      startAfter = key;
      if (key.startsWith(`${RESERVED_SEGMENT}/`)) continue;
      // ListObjectsV2 carries neither content type nor metadata; `stat` has them.
      items.push(remoteBlobInfo(key, { size: object.Size, lastModified: object.LastModified, etag: object.ETag }));
    }
    const more = page.IsTruncated === true && contents.length > 0;
    if (!more) return { items, nextCursor: null };
    if (items.length >= limit) return { items, nextCursor: encodeListCursor(startAfter!) };
  }
}
