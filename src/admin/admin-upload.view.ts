import type { UploadSession } from '../sessions/upload-session.model';
import { toSessionView, UploadSessionView } from '../uploads/upload-session.view';

/**
 * What the admin API shows of a session: the public view (path, provider, status, sizes, ISO timestamps, public
 * metadata) plus what operators need to find a stuck upload — the owner, whether provider-side data is still
 * held, and epoch-ms timestamps to compute ages with. Never the contents of `providerState` (part manifests,
 * staging ids): those are the engine's alone.
 * @publicApi
 */
export interface AdminUploadView extends UploadSessionView {
  /** Owner bound by the authorize hook at start; `null` for anonymous uploads. */
  ownerId: string | null;
  /** True while the provider still holds data for the upload (staging file, multipart parts, staged blocks). */
  holdsProviderData: boolean;
  /** A tus partial upload (`Upload-Concat: partial`). */
  partial: boolean;
  /** `createdAt` in epoch milliseconds. */
  createdAtMs: number;
  /** `updatedAt` in epoch milliseconds. */
  updatedAtMs: number;
  /** `expiresAt` in epoch milliseconds (sliding expiry, or the end of a tombstone's retention). */
  expiresAtMs: number;
}

/** The admin view of a stored session. */
export function toAdminUploadView(session: UploadSession): AdminUploadView {
  return {
    ...toSessionView(session),
    ownerId: session.ownerId,
    holdsProviderData: session.providerState !== null,
    partial: session.partial,
    createdAtMs: session.createdAt,
    updatedAtMs: session.updatedAt,
    expiresAtMs: session.expiresAt,
  };
}
