import { PolicyFailedError, UploadRejectedError } from '../errors/policy.errors';
import { SizeExceededError } from '../errors/upload.errors';
import { validateBlobPath } from '../storage/blob-path';
import { validateContentType } from '../uploads/content-type';
import { validateMetadata } from '../uploads/upload-input';
import { publicMetadata, RESERVED_METADATA_PREFIX } from '../uploads/upload-transport';
import { checkExtension } from './extension-rule';
import { isTypeAllowed } from './media-type.match';
import { normalizeMediaType } from './media-type.normalize';
import { runPolicyStep } from './policy-hook.runner';
import { limitFor, ResolvedUploadPolicy } from './resolved-upload-policy';
import type { UploadCreateContext } from './upload-policy.interfaces';

/** What an admitted upload is created with (possibly rewritten by `onCreate`). */
export interface Admission {
  path: string;
  metadata: Record<string, string>;
  contentType: string | null;
}

/**
 * The create stage: the app's `onCreate` first (it may rewrite path, metadata and type), then the built-in rules on
 * the result — extension of the final path, declared type (unless it is sniffed later), size per subject.
 */
export async function admitUpload(policy: ResolvedUploadPolicy, input: UploadCreateContext): Promise<Admission> {
  let { path, metadata, contentType } = input;
  const hook = policy.hooks?.onCreate;
  if (hook) {
    // The hook sees the client's metadata only: the library's own keys are not its to read or change.
    const ctx = { ...input, metadata: publicMetadata(metadata) };
    const decision = await runPolicyStep('onCreate', policy.hookTimeoutMs, () => hook.call(policy.hooks, ctx), {
      ownerId: input.owner,
    });
    if (decision && typeof decision === 'object') {
      if (decision.path !== undefined) path = validateBlobPath(decision.path);
      if (decision.metadata !== undefined) metadata = { ...reservedOf(metadata), ...hookMetadata(decision.metadata) };
      if (decision.contentType !== undefined) contentType = validateContentType(decision.contentType);
    }
  }

  const extension = checkExtension(path, {
    allowed: policy.allowedExtensions ?? undefined,
    blocked: policy.blockedExtensions ?? undefined,
  });
  if (!extension.ok) {
    throw new UploadRejectedError(extension.reason, {
      status: 400,
      code: 'EXTENSION_NOT_ALLOWED',
      details: { extension: extension.extension },
    });
  }
  if (policy.allowedContentTypes && typeDecidedAtCreate(policy, contentType, input.totalSize)) {
    if (!isTypeAllowed(policy.allowedContentTypes, contentType)) throw typeNotAllowed(contentType);
  }
  const subject = { owner: input.owner, path, provider: input.provider, transport: input.transport };
  const max = await limitFor(policy.maxUploadSize, subject);
  if (max !== null && input.totalSize !== null && input.totalSize > max) {
    throw new SizeExceededError(`Upload size exceeds the maximum of ${max} bytes`, max);
  }
  return { path, metadata, contentType };
}

/**
 * Whether the declared type is what the allowed types are checked on, at create. Without sniffing, always; an
 * empty upload has no bytes to sniff; under `enforce` a specific declared type must match the bytes, so one
 * outside the list can only end refused: say so before a byte is sent. Otherwise the bytes decide (first bytes).
 */
function typeDecidedAtCreate(policy: ResolvedUploadPolicy, contentType: string | null, totalSize: number | null) {
  if (!policy.sniff || totalSize === 0) return true;
  return policy.enforce && contentType !== null && normalizeMediaType(contentType) !== 'application/octet-stream';
}

/** 415 `TYPE_NOT_ALLOWED` for a type outside `allowedContentTypes`. */
export function typeNotAllowed(contentType: string | null): UploadRejectedError {
  const message = contentType
    ? `Content type ${contentType.slice(0, 100)} is not allowed`
    : 'Uploads must declare an allowed content type';
  return new UploadRejectedError(message, { status: 415, code: 'TYPE_NOT_ALLOWED', details: { contentType } });
}

/** The library's reserved keys of a metadata object (kept whatever the hook returns). */
function reservedOf(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) if (key.startsWith(RESERVED_METADATA_PREFIX)) out[key] = value;
  return out;
}

/**
 * Metadata a hook returned: validated like a client's, and never in the library's reserved space. A hook that
 * returns something else has a bug: 500 `POLICY_FAILED`, not a 400 the client could do nothing about.
 */
function hookMetadata(metadata: unknown): Record<string, string> {
  let valid: Record<string, string>;
  try {
    valid = validateMetadata(metadata);
  } catch (error) {
    throw new PolicyFailedError('onCreate', { cause: error });
  }
  if (Object.keys(valid).some((key) => key.toLowerCase().startsWith(RESERVED_METADATA_PREFIX))) {
    throw new PolicyFailedError('onCreate');
  }
  return valid;
}
