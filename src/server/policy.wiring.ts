import type { UploadPolicyOptions, UploadValidationOptions } from '../options/upload-policy-options.interface';
import type { ServerConfig } from './server.config';

/** DI token of the `ServerPolicySummary` the demo page reads (`GET /demo/policy`). */
export const SERVER_POLICY_SUMMARY = 'VALIBLOB_SERVER:policy-summary';

/**
 * What the server's policy allows, as the demo page shows it to the person uploading (no addresses, no secrets):
 * `null` / `'off'` / `false` where the environment asks for nothing.
 */
export interface ServerPolicySummary {
  allowedContentTypes: string[] | null;
  allowedExtensions: string[] | null;
  blockedExtensions: string[] | null;
  sniff: 'off' | 'on' | 'enforce';
  quotaBytes: number | null;
  /** `owner`: each `AUTH_TOKENS` owner has its own quota; `shared`: every upload counts against one (`*`). */
  quotaScope: 'owner' | 'shared' | null;
  /** Uploads are scanned for viruses before they are published. */
  virusScan: boolean;
}

/**
 * The library's `policy` option from the server's environment (`ALLOWED_TYPES`, `ALLOWED_EXTENSIONS`,
 * `BLOCKED_EXTENSIONS`, `SNIFF`, `QUOTA_BYTES`, `CLAMD`, `CLAMD_ON_ERROR`, validated by `loadServerConfig`);
 * `undefined` when none is set, so a server without them runs exactly as before.
 */
export function policyFromConfig(config: Pick<ServerConfig, 'policy'>): UploadPolicyOptions | undefined {
  const env = config.policy;
  const policy: UploadPolicyOptions = {};
  const validation: UploadValidationOptions = {};
  if (env.allowedContentTypes) validation.allowedContentTypes = env.allowedContentTypes;
  if (env.allowedExtensions) validation.allowedExtensions = env.allowedExtensions;
  if (env.blockedExtensions) validation.blockedExtensions = env.blockedExtensions;
  if (Object.keys(validation).length > 0) policy.validation = validation;
  if (env.sniff !== 'off') policy.contentType = { sniff: true, enforce: env.sniff === 'enforce' };
  // The library's default quota key is what the server wants: the owner id under AUTH_TOKENS (each owner its own
  // budget), `*` for anonymous uploads (without AUTH_TOKENS every upload shares one budget).
  if (env.quotaBytes !== null) policy.quota = { maxBytes: env.quotaBytes };
  if (env.clamd) {
    // Required only when CLAMD is set: a server without a scanner never loads the clamd client.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, only with CLAMD
    const { ClamAvScanner } = require('../policy/clamav.scanner') as typeof import('../policy/clamav.scanner');
    policy.scan = { scanner: new ClamAvScanner(env.clamd), onError: env.clamdOnError };
  }
  return Object.keys(policy).length > 0 ? policy : undefined;
}

/** What the demo page may tell its user about the policy (see `ServerPolicySummary`). */
export function policySummary(config: Pick<ServerConfig, 'policy' | 'ownerTokens'>): ServerPolicySummary {
  const env = config.policy;
  return {
    allowedContentTypes: env.allowedContentTypes,
    allowedExtensions: env.allowedExtensions,
    blockedExtensions: env.blockedExtensions,
    sniff: env.sniff,
    quotaBytes: env.quotaBytes,
    quotaScope: env.quotaBytes === null ? null : config.ownerTokens ? 'owner' : 'shared',
    virusScan: env.clamd !== null,
  };
}

/** One line for the start-up log (the clamd address is named: it is not a secret, and it helps when it is down). */
export function describePolicy(config: Pick<ServerConfig, 'policy' | 'ownerTokens'>): string {
  const env = config.policy;
  const parts: string[] = [];
  if (env.allowedContentTypes) parts.push(`types ${env.allowedContentTypes.join(', ')}`);
  if (env.allowedExtensions) parts.push(`extensions ${env.allowedExtensions.join(', ')}`);
  if (env.blockedExtensions) parts.push(`blocked extensions ${env.blockedExtensions.join(', ')}`);
  if (env.sniff !== 'off') parts.push(env.sniff === 'enforce' ? 'sniffing (enforced)' : 'sniffing');
  if (env.quotaBytes !== null) {
    parts.push(`quota ${env.quotaBytes} bytes ${config.ownerTokens ? 'per owner' : 'shared by all uploads'}`);
  }
  if (env.clamd) {
    const where = 'socketPath' in env.clamd ? `unix:${env.clamd.socketPath}` : `${env.clamd.host}:${env.clamd.port}`;
    parts.push(`clamd at ${where} (on error: ${env.clamdOnError})`);
  }
  return parts.length > 0 ? parts.join('; ') : 'none';
}
