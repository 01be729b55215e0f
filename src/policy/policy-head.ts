import { UploadRejectedError } from '../errors/policy.errors';
import type { SessionPatch, UploadSession } from '../sessions/upload-session.model';
import type { IncrementalDigest } from '../uploads/upload-checksum';
import { toSessionView } from '../uploads/upload-session.view';
import { isTypeCompatible, sniffContentType, SNIFF_WINDOW } from './content-sniffer';
import { isTypeAllowed } from './media-type.match';
import { runPolicyStep } from './policy-hook.runner';
import { HEAD_METADATA_KEY, transportOf } from './policy-metadata';
import type { ResolvedUploadPolicy } from './resolved-upload-policy';
import { typeNotAllowed } from './upload-admission';

/** Detections that name a family rather than a format: a compatible declared type says more (CSV, DOCX, …). */
const GENERIC_DETECTIONS = new Set([
  'text/plain',
  'application/xml',
  'application/zip',
  'application/gzip',
  'video/mp4',
]);

/**
 * The type stored for an upload: what the bytes are; when they only name a family the declared type fits
 * (`text/plain` for a declared `text/csv`), the declared type.
 */
function storedType(declared: string | null, detected: string | null): string | null {
  if (!detected) return declared;
  if (declared && GENERIC_DETECTIONS.has(detected) && isTypeCompatible(declared, detected)) return declared;
  return detected;
}

/**
 * Collects the first bytes of an upload while a chunk streams (a digest-shaped tap on the chunk meter), up to
 * the sniffing window, starting from what earlier tiny chunks left in the session.
 */
export class HeadTap implements IncrementalDigest {
  private readonly parts: Buffer[];
  private length: number;

  constructor(prior: Buffer) {
    this.parts = [prior];
    this.length = prior.length;
  }

  /** Keep bytes until the window is full (copied: the chunk's buffers are reused by the stream). */
  update(data: Buffer): void {
    if (this.length >= SNIFF_WINDOW) return;
    const take = data.subarray(0, SNIFF_WINDOW - this.length);
    this.parts.push(Buffer.from(take));
    this.length += take.length;
  }

  /** Unused (the tap is not a checksum); present for the meter's digest shape. */
  digest(): Buffer {
    return Buffer.alloc(0);
  }

  /** The first bytes of the upload seen so far, or the first `limit` of them. */
  bytes(limit = SNIFF_WINDOW): Buffer {
    return Buffer.concat(this.parts).subarray(0, limit);
  }
}

/**
 * The first-bytes stage: once the sniffing window (4 KiB, or the whole upload when smaller) has arrived and before
 * it is committed, detect the type from the magic bytes, refuse a declared type the bytes contradict
 * (`contentType.enforce`), check the type against `allowedContentTypes` and run the app's `onFirstBytes`. Chunks
 * smaller than the window leave their bytes in the session until the window is complete.
 */
export class PolicyHead {
  constructor(private readonly policy: ResolvedUploadPolicy) {}

  /** Whether the stage runs at all. */
  get enabled(): boolean {
    return this.policy.sniff || typeof this.policy.hooks?.onFirstBytes === 'function';
  }

  /** A tap for the next chunk of `session`, or `undefined` when its first bytes were already judged. */
  tap(session: UploadSession): HeadTap | undefined {
    // Partials are pieces of a later upload: their first bytes are not the file's; the final upload is judged.
    if (!this.enabled || session.partial || session.uploadedBytes >= SNIFF_WINDOW) return undefined;
    const prior = session.metadata[HEAD_METADATA_KEY];
    return new HeadTap(prior ? Buffer.from(prior, 'base64').subarray(0, session.uploadedBytes) : Buffer.alloc(0));
  }

  /**
   * Called with the chunk's bytes counted, before they are committed. Returns what the offset's advance must also
   * store (the sniffed type, or the partial window); throws a rejection, which discards the chunk.
   */
  async judge(session: UploadSession, tap: HeadTap, end: number, totalSize: number | null): Promise<SessionPatch> {
    const head = tap.bytes(end);
    const windowComplete = head.length >= SNIFF_WINDOW || (totalSize !== null && end >= totalSize);
    if (!windowComplete) {
      if (end === session.uploadedBytes) return {};
      return { metadata: { ...session.metadata, [HEAD_METADATA_KEY]: head.toString('base64') } };
    }
    const { sniff, enforce, allowedContentTypes, hooks, hookTimeoutMs } = this.policy;
    const detectedType = sniff ? sniffContentType(head) : null;
    const declared = session.contentType;
    if (enforce && declared && !isTypeCompatible(declared, detectedType)) {
      const what = detectedType ? `the bytes are ${detectedType}` : 'the bytes do not match it';
      throw new UploadRejectedError(`Declared content type ${declared.slice(0, 100)} is wrong: ${what}`, {
        status: 415,
        code: 'TYPE_MISMATCH',
        details: { declared, detected: detectedType },
      });
    }
    const effective = storedType(declared, sniff ? detectedType : null);
    if (sniff && allowedContentTypes && !isTypeAllowed(allowedContentTypes, effective)) throw typeNotAllowed(effective);
    if (hooks?.onFirstBytes) {
      const ctx = {
        session: toSessionView(session),
        owner: session.ownerId,
        transport: transportOf(session),
        head,
        detectedType,
      };
      await runPolicyStep('onFirstBytes', hookTimeoutMs, () => hooks.onFirstBytes!(ctx), session);
    }
    const patch: SessionPatch = {};
    if (effective !== declared) patch.contentType = effective;
    if (session.metadata[HEAD_METADATA_KEY] !== undefined) {
      const { [HEAD_METADATA_KEY]: _window, ...rest } = session.metadata;
      patch.metadata = rest;
    }
    return patch;
  }
}
