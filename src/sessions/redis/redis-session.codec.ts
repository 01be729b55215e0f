import { StoreUnavailableError } from '../../errors/vali-blob.errors';
import { UploadSession } from '../upload-session.model';

/** Compact JSON in the model's field order (stable, readable with `redis-cli GET`). */
export function serializeSession(session: UploadSession): string {
  const ordered: UploadSession = {
    uploadId: session.uploadId,
    path: session.path,
    provider: session.provider,
    totalSize: session.totalSize,
    uploadedBytes: session.uploadedBytes,
    contentType: session.contentType,
    metadata: session.metadata,
    ownerId: session.ownerId,
    status: session.status,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    expiresAt: session.expiresAt,
    version: session.version,
    providerState: session.providerState,
    checksum: session.checksum,
    partial: session.partial,
    parts: session.parts,
    fence: session.fence,
    conflict: session.conflict,
  };
  return JSON.stringify(ordered);
}

/** Stored JSON → session; a record that is not a session of this id is a store fault (503), never "not found". */
export function parseSession(json: string, uploadId: string): UploadSession {
  try {
    const session = JSON.parse(json) as UploadSession;
    if (typeof session !== 'object' || session === null || session.uploadId !== uploadId) throw new Error('shape');
    // Older records may lack fields added to the model later.
    session.fence ??= 0;
    upgradeConcatRole(session as UploadSession & { concat?: string | null });
    // Records from before the field were created when overwrite was checked at start only.
    session.conflict ??= 'overwrite';
    return session;
  } catch (error) {
    throw new StoreUnavailableError(`Session record ${uploadId} in Redis is not valid session JSON`, { cause: error });
  }
}

/**
 * Records written before `partial`/`parts` held the tus wire string `concat` (`partial` | `final;<id> <id>`):
 * read them as the neutral fields, so uploads in flight across an upgrade keep their role.
 */
function upgradeConcatRole(session: UploadSession & { concat?: string | null }): void {
  const legacy = session.concat;
  delete session.concat;
  session.partial ??= legacy === 'partial';
  session.parts ??= legacy?.startsWith('final;') ? legacy.slice('final;'.length).split(' ').filter(Boolean) : null;
}
