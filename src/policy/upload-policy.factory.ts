import type { ModuleRef } from '@nestjs/core';
import { isRecipe, resolveRecipe } from '../common/provider-recipe';
import { InvalidValiBlobOptionsError } from '../errors/bootstrap.errors';
import type { ClassOrFactoryConfig } from '../options/pluggable-config.interface';
import type { ResolvedValiBlobOptions } from '../options/resolved-vali-blob-options.interface';
import type { ResumableSessionStore } from '../sessions/resumable-session-store';
import type { StorageRegistry } from '../storage/storage.registry';
import { UploadQuotaService } from './quota/upload-quota.service';
import type { UploadQuotaStore } from './quota/upload-quota.store';
import {
  DEFAULT_HOOK_TIMEOUT_MS,
  NO_POLICY,
  ownerQuotaKey,
  ResolvedQuota,
  ResolvedUploadPolicy,
} from './resolved-upload-policy';
import { UploadPolicy } from './upload-policy';
import type { UploadPolicyHooks } from './upload-policy.interfaces';
import type { VirusScanner } from './virus-scanner';

/** Build a recipe with Nest's injector, or take an instance as it is. */
async function build<T extends object>(value: T | ClassOrFactoryConfig<T>, moduleRef: ModuleRef, what: string) {
  return isRecipe<T>(value) ? resolveRecipe<T>(value, moduleRef, what) : (value as T);
}

/**
 * Turn the validated `policy` option into the policy the engine runs: hook and scanner recipes built by Nest (they
 * may inject the app's services), the quota store taken from the option or from the session store's database
 * (`createQuotaStore()`). Refuses at bootstrap what could only fail later: a scanner with a provider that cannot
 * read staged uploads, a quota with a store that keeps no quota data.
 */
export async function createUploadPolicy(
  options: ResolvedValiBlobOptions,
  moduleRef: ModuleRef,
  store: ResumableSessionStore,
  registry: StorageRegistry,
): Promise<UploadPolicy> {
  const given = options.policy;
  if (!given) return new UploadPolicy(NO_POLICY, new UploadQuotaService(null, options.storeTimeoutMs));
  const hooks = given.hooks ? await build<UploadPolicyHooks>(given.hooks, moduleRef, 'UploadPolicyHooks') : null;
  const scanner = given.scan ? await build<VirusScanner>(given.scan.scanner, moduleRef, 'VirusScanner') : null;
  if (scanner) {
    const blind = registry.names().filter((name) => !registry.get(name).canReadStaged);
    if (blind.length > 0) {
      throw new InvalidValiBlobOptionsError([
        `policy.scan: the storage provider(s) ${blind.join(', ')} cannot read an upload before it is published ` +
          '(S3 multipart parts and Azure uncommitted blocks are not readable); scan on local or memory storage',
      ]);
    }
  }
  let quota: ResolvedQuota | null = null;
  if (given.quota) {
    const quotaStore = given.quota.store
      ? await build<UploadQuotaStore>(given.quota.store, moduleRef, 'UploadQuotaStore')
      : store.createQuotaStore();
    if (!quotaStore) {
      throw new InvalidValiBlobOptionsError([
        'policy.quota: the session store keeps no quota data (createQuotaStore() returned null); ' +
          'pass policy.quota.store',
      ]);
    }
    quota = { maxBytes: given.quota.maxBytes, key: given.quota.key ?? ownerQuotaKey, store: quotaStore };
  }
  const validation = given.validation ?? {};
  const resolved: ResolvedUploadPolicy = {
    hooks,
    hookTimeoutMs: given.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
    maxUploadSize: validation.maxUploadSize ?? null,
    allowedExtensions: validation.allowedExtensions ?? null,
    blockedExtensions: validation.blockedExtensions ?? null,
    allowedContentTypes: validation.allowedContentTypes ?? null,
    sniff: given.contentType?.sniff === true || given.contentType?.enforce === true,
    enforce: given.contentType?.enforce === true,
    scanner,
    scanOnError: given.scan?.onError ?? 'reject',
    quota,
  };
  return new UploadPolicy(resolved, new UploadQuotaService(quota, options.storeTimeoutMs));
}
