import { ValiBlobError, ValiBlobErrorCode } from './vali-blob-error';

/* What the upload policy refuses: validation, sniffing, scanning, quotas, and the app's own hooks. */

/** A code a hook may choose: upper-case letters, digits and `_`. */
const CUSTOM_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * What a policy rejection tells the client.
 * @publicApi
 */
export interface UploadRejection {
  /** HTTP status (4xx for a refusal, 503 when a scanner or hook could not decide). */
  status: number;
  /** Stable code (the built-in ones, or the hook's own, e.g. `NOT_AN_INVOICE`). */
  code: string;
  /** Human-readable reason, sent to the client. */
  message: string;
}

/**
 * The upload policy refused an upload. Throw it from a hook (`onCreate`, `onFirstBytes`, `beforePublish`):
 * its status, code and message reach the client on every transport. Defaults: 422 `UPLOAD_REJECTED`.
 * @publicApi
 */
export class UploadRejectedError extends ValiBlobError {
  constructor(message: string, options: { status?: number; code?: string; details?: Record<string, unknown> } = {}) {
    const status = validStatus(options.status) ? options.status : 422;
    const code = options.code && CUSTOM_CODE.test(options.code) ? options.code : 'UPLOAD_REJECTED';
    // Hooks may name their own codes: the union lists the library's, a hook's is carried as is.
    super(code as ValiBlobErrorCode, message, status, options.details ?? {});
  }

  /** The error a stored rejection answers again (a later request for a rejected upload). */
  static from(rejection: UploadRejection): UploadRejectedError {
    return new UploadRejectedError(rejection.message, { status: rejection.status, code: rejection.code });
  }

  /** Whether this rejection ends the upload (`Rejected`): a refusal (4xx), not "cannot decide now" (503). */
  get final(): boolean {
    return this.status < 500;
  }

  /** What is recorded on the session and sent to the client. */
  toRejection(): UploadRejection {
    return { status: this.status, code: this.code, message: this.message };
  }
}

/** A hook may answer any 4xx, or 503 for "cannot decide now". */
function validStatus(status: number | undefined): status is number {
  return Number.isInteger(status) && ((status! >= 400 && status! <= 499) || status === 503);
}

/**
 * An upload would take its owner past the byte quota (checked before bytes are stored). 413.
 * @publicApi
 */
export class QuotaExceededError extends UploadRejectedError {
  constructor(
    public readonly quotaKey: string,
    public readonly limit: number,
  ) {
    super(`Upload would exceed the storage quota of ${limit} bytes`, {
      status: 413,
      code: 'QUOTA_EXCEEDED',
      details: { limit },
    });
  }
}

/**
 * A policy hook or the scanner ran past `policy.hookTimeoutMs`. 503: nothing was decided, the client may retry.
 * @publicApi
 */
export class PolicyTimeoutError extends ValiBlobError {
  constructor(stage: string, timeoutMs: number) {
    super('POLICY_TIMEOUT', `The upload policy (${stage}) did not decide within ${timeoutMs} ms`, 503, { stage });
  }
}

/**
 * A policy hook failed with something other than a rejection (a bug or an outage in the app's hook). 500; the
 * error itself is logged, never sent.
 * @publicApi
 */
export class PolicyFailedError extends ValiBlobError {
  constructor(stage: string, options?: { cause?: unknown }) {
    super('POLICY_FAILED', `The upload policy (${stage}) failed`, 500, { stage }, options);
  }
}
