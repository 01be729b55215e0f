// The upload policy as docs/policy.md writes it ("A rule of your own, with your services"): a hook class given as
// `{ useClass }`, on top of the built-in rules wired in app.module.ts.
import { Injectable } from '@nestjs/common';
import {
  UploadCreateContext,
  UploadPolicyHooks,
  UploadPolicyOptions,
  UploadPublishContext,
  UploadRejectedError,
} from '@vali-blob/nestjs';
import type { ClamAvScannerOptions, QuotaUsage, UploadQuotaService } from '@vali-blob/nestjs';

@Injectable()
export class UploadReviewPolicy implements UploadPolicyHooks {
  /** Nothing under `forbidden/`, whatever the route. */
  onCreate(ctx: UploadCreateContext): void {
    if (ctx.path.startsWith('forbidden/')) {
      throw new UploadRejectedError('Nothing may be stored under forbidden/', { status: 403, code: 'FORBIDDEN_NAME' });
    }
  }

  /** Every published upload has its sha256 and size (a scanner or a review would read `ctx.open()`). */
  beforePublish(ctx: UploadPublishContext): void {
    if (ctx.sha256.length !== 64 || ctx.size < 0) throw new UploadRejectedError('Unreadable upload');
  }
}

/** The built-in rules next to the hook; a scanner would be `scan: { scanner: new ClamAvScanner(options) }`. */
export const uploadPolicy: UploadPolicyOptions = {
  hooks: { useClass: UploadReviewPolicy },
  validation: { blockedExtensions: ['exe', 'js'] },
  contentType: { sniff: true },
  quota: { maxBytes: 1024 ** 3 },
};

/** Type-only: what a quota endpoint of the app would read, and the ClamAV options it would pass. */
export type QuotaReader = Pick<UploadQuotaService, 'usage'> & { last?: QuotaUsage; clamd?: ClamAvScannerOptions };
