import type { BlobInfo } from '../storage-provider';
import { decodeHeaderMetadata } from './header-metadata';

/** What a remote backend reports about a blob (HEAD, get-properties or a listing entry); any of it may be absent. */
export interface RemoteBlobProperties {
  size?: number;
  contentType?: string;
  lastModified?: Date;
  etag?: string;
  /** Header-encoded metadata (see `encodeHeaderMetadata`). */
  metadata?: Record<string, string>;
}

/** `BlobInfo` from a remote backend's properties: absent values as 0 / null / `{}`, metadata header-decoded. */
export function remoteBlobInfo(path: string, properties: RemoteBlobProperties): BlobInfo {
  return {
    path,
    size: properties.size ?? 0,
    contentType: properties.contentType ?? null,
    lastModified: properties.lastModified?.getTime() ?? 0,
    etag: properties.etag ?? null,
    metadata: decodeHeaderMetadata(properties.metadata),
  };
}
