import type { UploadRejection } from '../errors/policy.errors';
import type { UploadSession } from '../sessions/upload-session.model';
import { RESERVED_METADATA_PREFIX, TRANSPORT_METADATA_KEY } from '../uploads/upload-transport';
import type { UploadTransport } from './upload-policy.interfaces';

/*
 * What the policy keeps with a session. Stored under the library's reserved metadata prefix rather than in new
 * columns, so no store needs a migration for it; hidden from clients like every reserved key.
 */

/** Why the policy refused the upload (JSON of `UploadRejection`). */
export const REJECTION_METADATA_KEY = `${RESERVED_METADATA_PREFIX}rejection`;
/** The quota key the upload's bytes count against (fixed at create, so commit and release agree). */
export const QUOTA_METADATA_KEY = `${RESERVED_METADATA_PREFIX}quota`;
/** The first bytes seen so far (base64), while the sniffing window is not complete yet (tiny first chunks). */
export const HEAD_METADATA_KEY = `${RESERVED_METADATA_PREFIX}head`;

/** The recorded rejection of a session, or `null`. */
export function rejectionOf(session: Pick<UploadSession, 'metadata'>): UploadRejection | null {
  const raw = session.metadata?.[REJECTION_METADATA_KEY];
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as UploadRejection;
    return { status: parsed.status, code: parsed.code, message: parsed.message };
  } catch {
    return { status: 422, code: 'UPLOAD_REJECTED', message: 'Upload rejected' };
  }
}

/** Metadata with the rejection recorded and the sniffing window dropped. */
export function withRejection(metadata: Record<string, string>, rejection: UploadRejection): Record<string, string> {
  const { [HEAD_METADATA_KEY]: _head, ...rest } = metadata;
  return { ...rest, [REJECTION_METADATA_KEY]: JSON.stringify(rejection) };
}

/** The route a stored session came through (`service` when no transport marked it). */
export function transportOf(session: Pick<UploadSession, 'metadata'>): UploadTransport {
  const marker = session.metadata?.[TRANSPORT_METADATA_KEY];
  return marker === 'tus' || marker === 'rufh' || marker === 'rest' ? marker : 'service';
}
