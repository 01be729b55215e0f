import { InvalidRequestError } from '../errors/vali-blob.errors';
import type { UploadSession } from '../sessions/upload-session.model';

/**
 * Metadata key under which the tus controller records that it created an upload. Kept in `metadata` rather
 * than a new session column so no store needs a migration; the prefix is reserved: clients may not send keys
 * starting with it, and it is hidden from session views and tus `Upload-Metadata`.
 */
export const TRANSPORT_METADATA_KEY = 'valiblob:transport';

/** Prefix of metadata keys that belong to the library, never to clients. */
export const RESERVED_METADATA_PREFIX = 'valiblob:';

/** Refuse client metadata that uses the reserved prefix (400 `INVALID_METADATA`). */
export function assertNoReservedMetadata(metadata: unknown): void {
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) return;
  for (const key of Object.keys(metadata)) {
    if (key.toLowerCase().startsWith(RESERVED_METADATA_PREFIX)) {
      const message = `Metadata keys starting with "${RESERVED_METADATA_PREFIX}" are reserved`;
      throw new InvalidRequestError(message, 'INVALID_METADATA');
    }
  }
}

/** Client metadata plus the marker saying which endpoint protocol created the upload (tus or the IETF draft). */
export function markCreatedBy(metadata: Record<string, string>, transport: 'tus' | 'rufh'): Record<string, string> {
  return { ...metadata, [TRANSPORT_METADATA_KEY]: transport };
}

/** Whether the tus controller created this session (only those may be finished by a tus HEAD). */
export function createdByTus(session: Pick<UploadSession, 'metadata'>): boolean {
  return session.metadata?.[TRANSPORT_METADATA_KEY] === 'tus';
}

/** Metadata as clients see it: without the library's reserved keys. */
export function publicMetadata(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (!key.startsWith(RESERVED_METADATA_PREFIX)) out[key] = value;
  }
  return out;
}
