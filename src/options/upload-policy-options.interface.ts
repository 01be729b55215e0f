import type { UploadQuotaStore } from '../policy/quota/upload-quota.store';
import type { UploadPolicyHooks, UploadSubject } from '../policy/upload-policy.interfaces';
import type { VirusScanner } from '../policy/virus-scanner';
import type { ClassOrFactoryConfig } from './pluggable-config.interface';

/**
 * A limit that may depend on who uploads what (`null` = no limit for this subject).
 * @publicApi
 */
export type SubjectLimit = number | ((subject: UploadSubject) => number | null | Promise<number | null>);

/**
 * Built-in validation, checked at create (and on the sniffed type once the first bytes arrive).
 * @publicApi
 */
export interface UploadValidationOptions {
  /** Largest upload per route/owner/path; the module's `maxUploadSize` still caps everything. */
  maxUploadSize?: SubjectLimit;
  /** Extensions allowed on the final path's last segment (case-insensitive, without dot; `tar.gz` allowed). */
  allowedExtensions?: string[];
  /** Extensions refused anywhere in the last segment's extensions (`invoice.exe.pdf` is refused for `exe`). */
  blockedExtensions?: string[];
  /** Content types allowed (`image/*` wildcards); an upload without a type is refused unless sniffed. */
  allowedContentTypes?: string[];
}

/**
 * Content type detection from magic bytes.
 * @publicApi
 */
export interface ContentTypeSniffOptions {
  /** Detect the type from the first bytes; the detected type is what gets stored. @default false */
  sniff?: boolean;
  /** Refuse (415 `TYPE_MISMATCH`) a declared type the bytes contradict. Implies `sniff`. @default false */
  enforce?: boolean;
}

/**
 * Virus scanning before publish.
 * @publicApi
 */
export interface VirusScanOptions {
  /** The scanner: an instance (e.g. `new ClamAvScanner({ host, port })`) or a DI recipe. */
  scanner: VirusScanner | ClassOrFactoryConfig<VirusScanner>;
  /**
   * When the scanner cannot answer (down, timeout): `'reject'` fails closed (503 `SCANNER_UNAVAILABLE`, the upload
   * ends `Rejected`), `'allow'` publishes unscanned and logs a warning.
   * @default 'reject'
   */
  onError?: 'reject' | 'allow';
}

/**
 * Byte quotas, held in the session store's database.
 * @publicApi
 */
export interface QuotaOptions {
  /** Bytes allowed per quota key; `null` from the function = unlimited (usage is still counted). */
  maxBytes: SubjectLimit;
  /** The quota key of a subject. @default owner id, or `*` for anonymous and in-process uploads */
  key?: (subject: UploadSubject) => string;
  /** Where usage lives. @default the session store's (memory, TypeORM table, Redis keys) */
  store?: UploadQuotaStore | ClassOrFactoryConfig<UploadQuotaStore>;
}

/**
 * The upload policy (see docs/policy.md): hooks plus built-in validation, sniffing, scanning and quotas, run by
 * the engine for tus, REST and the service API alike.
 * @publicApi
 */
export interface UploadPolicyOptions {
  /** Your hooks: an object, or a recipe so they can inject services. */
  hooks?: UploadPolicyHooks | ClassOrFactoryConfig<UploadPolicyHooks>;
  /** Longest a hook (or the scanner) may run, in ms, before 503 `POLICY_TIMEOUT`. @default 30_000 */
  hookTimeoutMs?: number;
  validation?: UploadValidationOptions;
  contentType?: ContentTypeSniffOptions;
  scan?: VirusScanOptions;
  quota?: QuotaOptions;
}
