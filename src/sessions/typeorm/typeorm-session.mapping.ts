import type { ConflictPolicy } from '../../uploads/conflict-policy';
import { UploadSession, UploadStatus } from '../upload-session.model';
import { UploadSessionEntity } from './upload-session.entity';

/**
 * Session → entity (a fresh object; the caller's session is never shared with TypeORM), in `partition` (`''` =
 * the unpartitioned space).
 */
export function toEntity(session: UploadSession, partition = ''): UploadSessionEntity {
  const entity = new UploadSessionEntity();
  Object.assign(entity, {
    ...session,
    partition,
    metadata: { ...session.metadata },
    providerState: session.providerState === null ? null : structuredClone(session.providerState),
    parts: session.parts === null ? null : [...session.parts],
  });
  return entity;
}

/** Entity → plain session object with exactly the model's fields (the partition is the store's, not the session's). */
export function toSession(entity: UploadSessionEntity): UploadSession {
  return {
    uploadId: entity.uploadId,
    path: entity.path,
    provider: entity.provider,
    totalSize: entity.totalSize,
    uploadedBytes: entity.uploadedBytes,
    contentType: entity.contentType,
    metadata: entity.metadata ?? {},
    ownerId: entity.ownerId,
    status: entity.status as UploadStatus,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
    expiresAt: entity.expiresAt,
    version: entity.version,
    providerState: entity.providerState,
    checksum: entity.checksum,
    // Some drivers hand booleans back as 0/1.
    partial: Boolean(entity.partial),
    parts: entity.parts ?? null,
    fence: entity.fence,
    // NULL = a row from before the column: those were created when overwrite was checked at start only.
    conflict: (entity.conflict ?? 'overwrite') as ConflictPolicy,
  };
}
