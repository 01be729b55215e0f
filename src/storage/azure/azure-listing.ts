import type { ContainerClient } from '@azure/storage-blob';
import { RESERVED_SEGMENT, validateBlobPrefix } from '../blob-path';
import { remoteBlobInfo } from '../common/remote-blob-info';
import { decodeListCursor, encodeListCursor, listLimit } from '../storage-helpers';
import type { BlobInfo, ListOptions, ListPage } from '../storage-provider';
import { azureCall } from './azure-errors';

/**
 * `list` of the Azure provider: one `listBlobsFlat` page (metadata included) in name order, with the reserved
 * `.valiblob/` area left out.
 */
export async function listBlobs(container: ContainerClient, prefix: string, options: ListOptions): Promise<ListPage> {
  const cleanPrefix = validateBlobPrefix(prefix);
  const limit = listLimit(options.limit);
  const marker = decodeListCursor(options.cursor);
  const pages = container
    .listBlobsFlat({ prefix: cleanPrefix || undefined, includeMetadata: true })
    .byPage({ maxPageSize: limit, continuationToken: marker });
  const page = await azureCall('listBlobsFlat', async () => (await pages.next()).value);
  const items: BlobInfo[] = [];
  for (const blob of page?.segment?.blobItems ?? []) {
    if (blob.name.startsWith(`${RESERVED_SEGMENT}/`)) continue;
    const { properties } = blob;
    items.push(remoteBlobInfo(blob.name, { ...properties, size: properties.contentLength, metadata: blob.metadata }));
  }
  const next = page?.continuationToken;
  // Azure's own continuation marker is the cursor (wrapped URL-safe): no key is skipped or repeated.
  return { items, nextCursor: next ? encodeListCursor(next) : null };
}
