import type { Readable } from 'node:stream';

/**
 * The verdict of a scan.
 * @publicApi
 */
export interface VirusScanResult {
  /** `true` when nothing was found. */
  clean: boolean;
  /** Name of what was found (e.g. `Eicar-Test-Signature`), when not clean. */
  signature?: string | null;
}

/**
 * What the scanner is told about the upload it scans.
 * @publicApi
 */
export interface VirusScanTarget {
  uploadId: string;
  path: string;
  size: number;
  sha256: string;
}

/**
 * A virus scanner, used before an upload is published (`policy.scan`). `scan` consumes the stream; it rejects
 * (any error) when the scanner cannot give a verdict — down, timed out, refused the stream — which the policy
 * turns into a rejection (fail closed) or lets through (`policy.scan.onError: 'allow'`).
 * The abstract class doubles as a DI token; `ClamAvScanner` is the built-in adapter.
 * @publicApi
 */
export abstract class VirusScanner {
  /** Scan a whole upload. */
  abstract scan(stream: Readable, target: VirusScanTarget): Promise<VirusScanResult>;
  /** Resolves when the scanner answers (health probe). */
  abstract ping(): Promise<void>;
}
