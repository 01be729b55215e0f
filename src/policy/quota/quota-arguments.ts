/**
 * Checks shared by every `UploadQuotaStore`: byte counts and limits are non-negative safe integers. A bad value is a
 * caller bug, so it throws `RangeError` before the backend is asked (inside a store call it would read as an outage).
 */
export function assertQuotaBytes(name: 'bytes' | 'limit', value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`UploadQuotaStore: ${name} must be a non-negative safe integer (got ${String(value)})`);
  }
}
