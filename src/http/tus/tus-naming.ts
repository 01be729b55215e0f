import { sanitizeFileName } from '../../storage/blob-path';
import type { ResolvedValiBlobOptions } from '../../vali-blob.options';
import type { HttpExchange } from '../http-exchange';
import type { RequestOwner } from '../request-owner';
import { FILENAME_KEYS, pickMetadata } from './tus-metadata';

/**
 * The stored path of an upload created on the tus endpoint, by either protocol (tus or the IETF draft):
 * `tus.naming` when set, else `tus/<uploadId>/<sanitised filename>`. Naming speaks client paths; under owner
 * scope they land in the caller's space.
 */
export async function endpointUploadPath(
  options: ResolvedValiBlobOptions,
  caller: RequestOwner,
  exchange: HttpExchange,
  uploadId: string,
  metadata: Record<string, string>,
): Promise<string> {
  const path = options.tus.naming
    ? await options.tus.naming({ uploadId, metadata: { ...metadata }, request: exchange.platformRequest })
    : `tus/${uploadId}/${sanitizeFileName(pickMetadata(metadata, FILENAME_KEYS))}`;
  return caller.space.toStored(path);
}
