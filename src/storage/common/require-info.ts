import { BlobNotFoundError } from '../../errors/vali-blob.errors';
import type { BlobInfo } from '../storage-provider';

/** Anything that can `stat` a blob path (a provider, or the part of one that talks to the backend). */
export interface BlobStat {
  stat(path: string): Promise<BlobInfo | null>;
}

/** `stat` for callers that need the blob: its info, or `BlobNotFoundError` (404) when there is none. */
export async function requireInfo(source: BlobStat, path: string): Promise<BlobInfo> {
  const info = await source.stat(path);
  if (!info) throw new BlobNotFoundError(path);
  return info;
}
