import { normalizeExtensionList } from '../policy/extension-rule';
import { assertMediaTypePatterns } from '../policy/media-type.match';
import type { OptionProblems } from './option-problems';
import { isRecipeShape } from './pluggable-config.guards';
import type { UploadPolicyOptions } from './upload-policy-options.interface';

/** A number or a function. */
function isLimit(value: unknown): boolean {
  if (typeof value === 'function') return true;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Validate `policy` (shapes only: recipes are built later, by `createUploadPolicy`). Returns the options with the
 * extension lists normalised, or `null` when no policy is configured.
 */
export function readPolicyOptions(policy: unknown, problems: OptionProblems): UploadPolicyOptions | null {
  if (policy === undefined || policy === null) return null;
  if (typeof policy !== 'object') {
    problems.add('policy must be an object');
    return null;
  }
  const p = policy as UploadPolicyOptions;
  if (p.hooks !== undefined && (typeof p.hooks !== 'object' || p.hooks === null)) {
    problems.add('policy.hooks must be an object with onCreate/onFirstBytes/beforePublish or a recipe');
  } else if (p.hooks && !isRecipeShape(p.hooks as Record<string, unknown>)) {
    for (const name of ['onCreate', 'onFirstBytes', 'beforePublish'] as const) {
      const hook = (p.hooks as Record<string, unknown>)[name];
      if (hook !== undefined && typeof hook !== 'function') problems.add(`policy.hooks.${name} must be a function`);
    }
  }
  const hookTimeoutMs = problems.positiveInt('policy.hookTimeoutMs', p.hookTimeoutMs, 1);
  const validation = { ...(p.validation ?? {}) };
  if (validation.maxUploadSize !== undefined && !isLimit(validation.maxUploadSize)) {
    problems.add('policy.validation.maxUploadSize must be a non-negative integer or a function');
  }
  for (const key of ['allowedExtensions', 'blockedExtensions'] as const) {
    const list = validation[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.add(`policy.validation.${key} must be an array of extensions`);
      continue;
    }
    const { values, problems: found } = normalizeExtensionList(list);
    for (const problem of found) problems.add(`policy.validation.${key}: ${problem}`);
    validation[key] = values;
  }
  if (validation.allowedContentTypes !== undefined) {
    if (!Array.isArray(validation.allowedContentTypes)) {
      problems.add('policy.validation.allowedContentTypes must be an array of media types');
    } else {
      for (const problem of assertMediaTypePatterns(validation.allowedContentTypes)) {
        problems.add(`policy.validation.allowedContentTypes: ${problem}`);
      }
    }
  }
  const sniff = p.contentType ?? {};
  for (const key of ['sniff', 'enforce'] as const) {
    if (sniff[key] !== undefined && typeof sniff[key] !== 'boolean') {
      problems.add(`policy.contentType.${key} must be true or false`);
    }
  }
  if (p.scan !== undefined) {
    const scanner = p.scan?.scanner as unknown;
    const usable =
      !!scanner &&
      typeof scanner === 'object' &&
      (isRecipeShape(scanner as Record<string, unknown>) || typeof (scanner as never)['scan'] === 'function');
    if (!usable) problems.add('policy.scan.scanner must be a VirusScanner instance or a recipe');
    if (p.scan?.onError !== undefined && p.scan.onError !== 'reject' && p.scan.onError !== 'allow') {
      problems.add("policy.scan.onError must be 'reject' or 'allow'");
    }
  }
  if (p.quota !== undefined) {
    if (!p.quota || !isLimit(p.quota.maxBytes)) {
      problems.add('policy.quota.maxBytes must be a non-negative integer or a function');
    }
    if (p.quota?.key !== undefined && typeof p.quota.key !== 'function') {
      problems.add('policy.quota.key must be a function');
    }
    const store = p.quota?.store as unknown;
    if (store !== undefined && (!store || typeof store !== 'object')) {
      problems.add('policy.quota.store must be an UploadQuotaStore instance or a recipe');
    }
  }
  return { ...p, hookTimeoutMs: p.hookTimeoutMs === undefined ? undefined : hookTimeoutMs, validation };
}
