import { HttpException, Logger } from '@nestjs/common';
import { guardedCall } from '../common/guarded-call';
import type { UploadLogSubject } from '../common/upload-log';
import { PolicyFailedError, PolicyTimeoutError, UploadRejectedError } from '../errors/policy.errors';

const logger = new Logger('ValiBlob');

/**
 * Run one policy step (an app hook or the scanner) under the policy's time limit (`guardedCall`, the shared
 * "call with a deadline and map its errors") and map what it throws to what the client gets: the library's typed
 * errors (rejections included) as they are; a Nest `HttpException` with a 4xx status becomes a rejection with that
 * status and message (what Nest users throw); past the deadline 503 `POLICY_TIMEOUT`; anything else is the app's
 * bug: logged with its stack (naming `upload`: the session, or only the owner before the upload exists), answered
 * 500 `POLICY_FAILED`.
 */
export function runPolicyStep<T>(
  stage: string,
  timeoutMs: number,
  step: () => T | Promise<T>,
  upload?: UploadLogSubject,
): Promise<T> {
  const call = () =>
    Promise.resolve()
      .then(step)
      .catch((error: unknown) => {
        // What Nest users throw: a 4xx HttpException is a refusal like UploadRejectedError (which passes as is).
        if (error instanceof HttpException && error.getStatus() >= 400 && error.getStatus() < 500) {
          throw new UploadRejectedError(httpMessage(error), { status: error.getStatus(), code: httpCode(error) });
        }
        throw error;
      });
  return guardedCall(call, {
    what: `Upload policy ${stage}`,
    timeoutMs,
    unavailable: ({ timedOut, cause }) =>
      timedOut ? new PolicyTimeoutError(stage, timeoutMs) : new PolicyFailedError(stage, { cause }),
    logger,
    upload,
  });
}

/** The message a Nest exception carries (its response's `message`, first entry of a validation list). */
function httpMessage(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return String(message[0] ?? error.message);
  return typeof message === 'string' ? message : error.message;
}

/** A `code` the exception's response names (e.g. `new ForbiddenException({ code: 'NOT_AN_INVOICE', message })`). */
function httpCode(error: HttpException): string | undefined {
  const response = error.getResponse();
  const code = typeof response === 'object' ? (response as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
