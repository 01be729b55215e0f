import { BlobSASPermissions, ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { NotSupportedError } from '../../errors/vali-blob.errors';
import { checkPresignRequest } from '../common/presign-limits';
import type { PresignOptions } from '../storage-provider';

/**
 * `presign` of the Azure provider: a blob SAS URL (read for GET; create + write for PUT, with the content type
 * signed). Signing needs the account key, so a container client without a shared-key credential cannot presign.
 */
export async function presignBlob(container: ContainerClient, path: string, options: PresignOptions): Promise<string> {
  checkPresignRequest(path, options);
  if (!(container.credential instanceof StorageSharedKeyCredential)) {
    throw new NotSupportedError('presign without a shared key credential', 'the Azure storage provider');
  }
  const now = Date.now();
  return container.getBlockBlobClient(path).generateSasUrl({
    permissions: BlobSASPermissions.parse(options.method === 'GET' ? 'r' : 'cw'),
    // A little clock-skew allowance, as Microsoft recommends.
    startsOn: new Date(now - 5 * 60_000),
    expiresOn: new Date(now + options.expiresInSeconds * 1000),
    contentType: options.method === 'GET' ? undefined : options.contentType,
  });
}
