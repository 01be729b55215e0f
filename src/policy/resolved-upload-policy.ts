import type { SubjectLimit } from '../options/upload-policy-options.interface';
import type { UploadQuotaStore } from './quota/upload-quota.store';
import type { UploadPolicyHooks, UploadSubject } from './upload-policy.interfaces';
import type { VirusScanner } from './virus-scanner';

/**
 * The upload policy with its recipes built and defaults applied: what `UploadPolicy` runs. Built once at bootstrap
 * by `createUploadPolicy`.
 */
export interface ResolvedUploadPolicy {
  hooks: UploadPolicyHooks | null;
  hookTimeoutMs: number;
  maxUploadSize: SubjectLimit | null;
  allowedExtensions: string[] | null;
  blockedExtensions: string[] | null;
  allowedContentTypes: string[] | null;
  sniff: boolean;
  enforce: boolean;
  scanner: VirusScanner | null;
  scanOnError: 'reject' | 'allow';
  quota: ResolvedQuota | null;
}

/** Quotas with their store and key function. */
export interface ResolvedQuota {
  maxBytes: SubjectLimit;
  key: (subject: UploadSubject) => string;
  store: UploadQuotaStore;
}

/** Default of `policy.hookTimeoutMs`. */
export const DEFAULT_HOOK_TIMEOUT_MS = 30_000;

/** Quota key of uploads without an owner (anonymous and in-process callers). */
export const ANONYMOUS_QUOTA_KEY = '*';

/** Default `quota.key`: the owner id. */
export function ownerQuotaKey(subject: UploadSubject): string {
  return subject.owner ?? ANONYMOUS_QUOTA_KEY;
}

/** A policy that does nothing (no `policy` option). */
export const NO_POLICY: ResolvedUploadPolicy = {
  hooks: null,
  hookTimeoutMs: DEFAULT_HOOK_TIMEOUT_MS,
  maxUploadSize: null,
  allowedExtensions: null,
  blockedExtensions: null,
  allowedContentTypes: null,
  sniff: false,
  enforce: false,
  scanner: null,
  scanOnError: 'reject',
  quota: null,
};

/** A subject limit for `subject`: `null` = none. */
export async function limitFor(limit: SubjectLimit | null, subject: UploadSubject): Promise<number | null> {
  if (limit === null) return null;
  return typeof limit === 'function' ? await limit(subject) : limit;
}
