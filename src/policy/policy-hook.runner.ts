import { HttpException, Logger } from '@nestjs/common';
import { withTimeout } from '../common/with-timeout';
import { PolicyFailedError, PolicyTimeoutError, UploadRejectedError } from '../errors/policy.errors';
import { ValiBlobError } from '../errors/vali-blob-error';

const logger = new Logger('ValiBlob');

/**
 * Run one policy step (an app hook or the scanner) under the policy's time limit and map what it throws to what
 * the client gets: the library's typed errors (rejections included) as they are; a Nest `HttpException` with a
 * 4xx status becomes a rejection with that status and message (what Nest users throw); past the deadline 503
 * `POLICY_TIMEOUT`; anything else is the app's bug: logged with its stack, answered 500 `POLICY_FAILED`.
 */
export async function runPolicyStep<T>(stage: string, timeoutMs: number, step: () => T | Promise<T>): Promise<T> {
  let deadline: PolicyTimeoutError | undefined;
  try {
    return await withTimeout(
      Promise.resolve().then(step),
      timeoutMs,
      () => (deadline = new PolicyTimeoutError(stage, timeoutMs)),
    );
  } catch (error) {
    if (error === deadline || error instanceof ValiBlobError) throw error;
    if (error instanceof HttpException && error.getStatus() >= 400 && error.getStatus() < 500) {
      throw new UploadRejectedError(httpMessage(error), { status: error.getStatus(), code: httpCode(error) });
    }
    logger.error(`Upload policy ${stage} failed: ${(error as Error)?.stack ?? String(error)}`);
    throw new PolicyFailedError(stage, { cause: error });
  }
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
