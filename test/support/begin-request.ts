import type { BeginUploadRequest, CompleteUploadRequest } from '../../src/storage/storage-provider';

/**
 * One request for both `beginUpload` and `completeUpload` of a provider-level spec: a known size, no content type,
 * no metadata, and the overwrite choice for the publish step.
 */
export function beginRequest(
  uploadId: string,
  path: string,
  totalSize: number,
  overwrite?: boolean,
): BeginUploadRequest & CompleteUploadRequest {
  return { uploadId, path, totalSize, contentType: null, metadata: {}, overwrite };
}
