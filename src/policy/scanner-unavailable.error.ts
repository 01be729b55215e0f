import { ValiBlobError } from '../errors/vali-blob-error';

/**
 * Why a virus scanner could not give a verdict:
 * - `unreachable`: the connection could not be opened (nothing listening, DNS, socket file missing);
 * - `connection_lost`: the scanner closed or reset the connection without answering;
 * - `timeout`: no verdict within the scan deadline, or the transfer stalled past the idle limit;
 * - `size_limit`: the scanner refuses streams this large (clamd's `StreamMaxLength`);
 * - `scanner_error`: the scanner answered with an error of its own;
 * - `bad_reply`: the answer could not be understood.
 * @publicApi
 */
export type ScannerUnavailableReason =
  'unreachable' | 'connection_lost' | 'timeout' | 'size_limit' | 'scanner_error' | 'bad_reply';

/** What clients read; it names no host, port or socket path (those stay in `cause`, for the logs). */
const MESSAGES: Record<ScannerUnavailableReason, string> = {
  unreachable: 'The virus scanner is unreachable',
  connection_lost: 'The virus scanner closed the connection without a verdict',
  timeout: 'The virus scanner did not answer in time',
  size_limit: 'The upload is larger than the virus scanner accepts',
  scanner_error: 'The virus scanner failed to scan the upload',
  bad_reply: 'The virus scanner sent an answer that could not be understood',
};

/**
 * A virus scanner could not give a verdict (503 `SCANNER_UNAVAILABLE`). The policy fails closed on it unless
 * `policy.scan.onError` is `'allow'`. `reason` is stable and also sent as a detail; the scanner's address and the
 * low-level error are only in `cause`.
 * @publicApi
 */
export class ScannerUnavailableError extends ValiBlobError {
  constructor(
    /** Why there is no verdict. */
    public readonly reason: ScannerUnavailableReason,
    options: { cause?: unknown } = {},
  ) {
    super('SCANNER_UNAVAILABLE', MESSAGES[reason], 503, { reason }, options);
  }
}
