import type { Readable } from 'node:stream';
import type { UploadSessionView } from '../uploads/upload-session.view';

/**
 * Which route an upload came through, so a policy can differ per route: `tus`, `rufh` (the IETF resumable-upload
 * draft on the tus endpoint), `rest`, or `service` (`ResumableUploadService` called in-process).
 * @publicApi
 */
export type UploadTransport = 'tus' | 'rufh' | 'rest' | 'service';

/**
 * Who is asking for what: the subject every size, quota and custom rule is decided on.
 * @publicApi
 */
export interface UploadSubject {
  /** Owner id from the authorize hook; `null` anonymous; `undefined` a trusted in-process caller. */
  owner: string | null | undefined;
  /** The upload's final path (after `onCreate` rewrote it). */
  path: string;
  /** Storage provider name. */
  provider: string;
  /** The route it came through. */
  transport: UploadTransport;
}

/**
 * What `onCreate` sees: the upload as asked for, before a session exists.
 * @publicApi
 */
export interface UploadCreateContext extends UploadSubject {
  /** Declared total size; `null` while deferred (tus `Upload-Defer-Length`). */
  totalSize: number | null;
  /** Declared content type (tus `filetype`/`contentType` metadata, REST `contentType`). */
  contentType: string | null;
  /** Client metadata (string values). */
  metadata: Record<string, string>;
}

/**
 * What `onCreate` may change; return nothing to keep the upload as asked. A rewritten path is validated again
 * (and still has to lie in the owner's space).
 * @publicApi
 */
export interface UploadCreateDecision {
  path?: string;
  metadata?: Record<string, string>;
  contentType?: string | null;
}

/**
 * What `onFirstBytes` sees: the first bytes of the upload (the sniffing window: 4 KiB, or the whole upload when it
 * is smaller), before they are committed.
 * @publicApi
 */
export interface UploadFirstBytesContext {
  /** The session as it was before these bytes (status `Pending` or `InProgress`). */
  session: UploadSessionView;
  /** Owner id the session is bound to. */
  owner: string | null;
  /** The route the bytes came through. */
  transport: UploadTransport;
  /** The first bytes of the upload (at most the sniffing window). */
  head: Buffer;
  /** Type detected from the magic bytes, `null` when unknown (only when `contentType.sniff` is on). */
  detectedType: string | null;
}

/**
 * What `beforePublish` sees: every byte is stored, the blob is not yet visible at its path.
 * @publicApi
 */
export interface UploadPublishContext {
  /** The session (status `InProgress`, `uploadedBytes === totalSize`). */
  session: UploadSessionView;
  /** Owner id the session is bound to. */
  owner: string | null;
  /** Whole-file sha256 (hex) of the stored bytes. */
  sha256: string;
  /** Total size in bytes. */
  size: number;
  /**
   * A fresh readable stream of the whole upload (each call opens a new one). Providers that cannot read staged
   * data (S3, Azure) throw `NotSupportedError`; see docs/policy.md.
   */
  open(): Promise<Readable>;
}

/**
 * The policy extension points, run by the engine for every transport (tus, REST, the service API). Reject by
 * throwing `UploadRejectedError` (its status, code and message reach the client) or a Nest `HttpException` with a
 * 4xx status. A hook that fails otherwise answers 500 `POLICY_FAILED`; one that runs past `policy.hookTimeoutMs`
 * answers 503 `POLICY_TIMEOUT`. Hooks are given as an object, or as a `{ useClass | useExisting | useFactory }`
 * recipe so they can inject the app's services.
 * @publicApi
 */
export interface UploadPolicyHooks {
  /** Before a session exists; may reject or rewrite path, metadata and content type. */
  onCreate?(ctx: UploadCreateContext): void | UploadCreateDecision | Promise<void | UploadCreateDecision>;
  /** Once the sniffing window arrived, before it is committed; a rejection discards the chunk and the session. */
  onFirstBytes?(ctx: UploadFirstBytesContext): void | Promise<void>;
  /**
   * Every byte stored, before the blob is visible; a rejection frees the staged data and ends the session
   * `Rejected` — the blob never appears.
   */
  beforePublish?(ctx: UploadPublishContext): void | Promise<void>;
}
