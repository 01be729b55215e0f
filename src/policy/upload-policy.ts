import { Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { uploadLog } from '../common/upload-log';
import { PolicyTimeoutError, UploadRejectedError } from '../errors/policy.errors';
import type { UploadSession } from '../sessions/upload-session.model';
import { toSessionView } from '../uploads/upload-session.view';
import { PolicyHead } from './policy-head';
import { transportOf } from './policy-metadata';
import { runPolicyStep } from './policy-hook.runner';
import { UploadQuotaService } from './quota/upload-quota.service';
import { ScannerUnavailableError } from './scanner-unavailable.error';
import { limitFor, ResolvedUploadPolicy } from './resolved-upload-policy';
import { admitUpload, Admission } from './upload-admission';
import type { UploadCreateContext, UploadSubject } from './upload-policy.interfaces';

/**
 * The upload policy as the engine runs it, the same for tus, REST and the service API: `admit` before a session
 * exists (hook, validation), the first-bytes stage (`head`: sniffing, allowed types, hook) and `beforePublish`
 * (scanner, hook). Quotas are `quota` (`UploadQuotaService`). Rejections are `UploadRejectedError`s; the engine
 * turns a final one into the `Rejected` state.
 */
export class UploadPolicy {
  /** The first-bytes stage. */
  readonly head: PolicyHead;
  private readonly logger = new Logger('ValiBlob');

  constructor(
    readonly resolved: ResolvedUploadPolicy,
    /** Quotas (a no-op when `policy.quota` is not set). */
    readonly quota: UploadQuotaService,
  ) {
    this.head = new PolicyHead(resolved);
  }

  /** Hook, then built-in validation on the final path and type; returns what the upload is created with. */
  admit(input: UploadCreateContext): Promise<Admission> {
    return admitUpload(this.resolved, input);
  }

  /** The largest upload this subject may send: the module's maximum, or less per `validation.maxUploadSize`. */
  async maxUploadSizeFor(subject: UploadSubject, moduleMax: number): Promise<number> {
    const own = await limitFor(this.resolved.maxUploadSize, subject);
    return own === null ? moduleMax : Math.min(own, moduleMax);
  }

  /** Whether anything runs before publish (then the engine reads the staged upload). */
  get inspectsPublish(): boolean {
    return this.resolved.scanner !== null || typeof this.resolved.hooks?.beforePublish === 'function';
  }

  /**
   * Every byte is stored, nothing is visible yet: the scanner, then the app's hook. `open` streams the staged
   * upload. A found virus is a final rejection (422 `VIRUS_FOUND`); a scanner that cannot answer is a 503
   * `SCANNER_UNAVAILABLE` that leaves the upload as it is (fail closed, retry later) unless `onError: 'allow'`.
   */
  async beforePublish(session: UploadSession, sha256: string, open: () => Promise<Readable>): Promise<void> {
    const size = session.totalSize ?? session.uploadedBytes;
    const { scanner, hooks, hookTimeoutMs } = this.resolved;
    if (scanner) await this.scan(session, sha256, size, open);
    if (hooks?.beforePublish) {
      const view = toSessionView(session);
      await runPolicyStep(
        'beforePublish',
        hookTimeoutMs,
        () => hooks.beforePublish!({ session: view, owner: session.ownerId, sha256, size, open }),
        session,
      );
    }
  }

  /** The subject of a stored session (for limits and quotas decided after create). */
  subjectOf(session: UploadSession): UploadSubject {
    return {
      owner: session.ownerId,
      path: session.path,
      provider: session.provider,
      transport: transportOf(session),
    };
  }

  private async scan(session: UploadSession, sha256: string, size: number, open: () => Promise<Readable>) {
    const { scanner, hookTimeoutMs, scanOnError } = this.resolved;
    let stream: Readable | undefined;
    let verdict;
    try {
      verdict = await runPolicyStep(
        'scan',
        hookTimeoutMs,
        async () => {
          stream = await open();
          return scanner!.scan(stream, { uploadId: session.uploadId, path: session.path, size, sha256 });
        },
        session,
      );
    } catch (error) {
      if (error instanceof UploadRejectedError) throw error;
      if (scanOnError === 'allow') {
        this.logger.warn(uploadLog('Virus scan failed; published unscanned (onError: allow)', session, error));
        return;
      }
      // Too large for the scanner (clamd's StreamMaxLength) will never pass: a final refusal, not a 503 to retry.
      if (error instanceof ScannerUnavailableError && error.reason === 'size_limit') {
        throw new UploadRejectedError('The upload is larger than the virus scanner accepts', {
          status: 413,
          code: 'SIZE_EXCEEDED',
        });
      }
      // Fail closed with the scanner's own reason (timeout, unreachable, …) when it gave one.
      if (error instanceof ScannerUnavailableError) throw error;
      const reason = error instanceof PolicyTimeoutError ? 'timeout' : 'scanner_error';
      throw new ScannerUnavailableError(reason, { cause: error });
    } finally {
      // A scan that timed out or failed must not keep the staged file open.
      stream?.destroy();
    }
    if (!verdict.clean) {
      const found = verdict.signature ? `: ${verdict.signature}` : '';
      throw new UploadRejectedError(`The upload contains malware${found}`, {
        status: 422,
        code: 'VIRUS_FOUND',
        details: { signature: verdict.signature ?? null },
      });
    }
  }
}
