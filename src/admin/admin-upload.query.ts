import type { UploadStatus } from '../sessions/upload-session.model';
import type { AdminUploadView } from './admin-upload.view';

/**
 * Which uploads an admin call is about. Every given field must match (AND); an empty filter matches every
 * session (which `purge` refuses unless told `all: true`).
 * @publicApi
 */
export interface AdminUploadFilter {
  /** Sessions whose path starts with this string (literal, not a pattern; stored paths, owner prefix included). */
  pathPrefix?: string;
  /** One status or any of several. */
  status?: UploadStatus | UploadStatus[];
  /** Sessions of this owner (the id the authorize hook bound). */
  ownerId?: string;
  /** Sessions created at least this long ago (ms): `createdBefore = now - olderThanMs`. */
  olderThanMs?: number;
  /** Sessions created at or before this instant (epoch ms). With `olderThanMs` too, the earlier instant wins. */
  createdBefore?: number;
  /** Sessions whose `expiresAt` is at or before this instant (epoch ms). */
  expiresBefore?: number;
}

/**
 * A page request of `UploadAdminService.find`.
 * @publicApi
 */
export interface AdminUploadQuery extends AdminUploadFilter {
  /** Page size, 1..1000. @default 100 */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/**
 * One page of `UploadAdminService.find`, ordered by upload id.
 * @publicApi
 */
export interface AdminUploadPage {
  items: AdminUploadView[];
  /** Pass back as `cursor` for the next page; `null` on the last page. */
  nextCursor: string | null;
}
