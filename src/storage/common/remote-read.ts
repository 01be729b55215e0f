import { Readable } from 'node:stream';
import { resolveRange } from '../storage-helpers';
import type { BlobInfo, BlobReadResult, ByteRange } from '../storage-provider';
import { BlobStat, requireInfo } from './require-info';

/** Opens the bytes of the blob `info` describes (the whole blob, or the inclusive `served` range). */
export type OpenBlobStream = (info: BlobInfo, served?: { start: number; end: number }) => Promise<Readable>;

/**
 * `get` of a remote backend: the blob's info first (404 when missing), the range checked against its size
 * (`INVALID_RANGE`), an empty blob served without a request, and only then the download. `open` should make the
 * download conditional on `info.etag`, so the bytes are those of the blob `info` describes.
 */
export async function readRemoteBlob(
  source: BlobStat,
  path: string,
  range: ByteRange | undefined,
  open: OpenBlobStream,
): Promise<BlobReadResult> {
  const info = await requireInfo(source, path);
  const served = range ? resolveRange(range, info.size) : undefined;
  if (info.size === 0) return { info, stream: Readable.from([]) };
  return { info, range: served, stream: await open(info, served) };
}
