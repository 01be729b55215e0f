import type { UploadRejection } from '../errors/policy.errors';
import { rejectionOf } from '../policy/policy-metadata';
import { UploadSession, UploadStatus } from '../sessions/upload-session.model';
import { publicMetadata } from './upload-transport';

/** What clients and event listeners see of a session: no provider state, no owner id. */
export interface UploadSessionView {
  uploadId: string;
  path: string;
  provider: string;
  status: UploadStatus;
  totalSize: number | null;
  uploadedBytes: number;
  contentType: string | null;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  /** Whole-file sha256 (hex) once complete. */
  checksum: string | null;
  /** Why the upload policy refused it (status `Rejected`), else `null`. */
  rejection: UploadRejection | null;
}

/** Public view of a session (ISO timestamps). */
export function toSessionView(session: UploadSession): UploadSessionView {
  return {
    uploadId: session.uploadId,
    path: session.path,
    provider: session.provider,
    status: session.status,
    totalSize: session.totalSize,
    uploadedBytes: session.uploadedBytes,
    contentType: session.contentType,
    // The library's reserved keys (e.g. which transport created the upload) are not the client's data.
    metadata: publicMetadata(session.metadata),
    createdAt: new Date(session.createdAt).toISOString(),
    updatedAt: new Date(session.updatedAt).toISOString(),
    expiresAt: new Date(session.expiresAt).toISOString(),
    checksum: session.checksum,
    rejection: rejectionOf(session),
  };
}
