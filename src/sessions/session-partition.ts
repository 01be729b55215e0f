import { InvalidValiBlobOptionsError } from '../errors/vali-blob.errors';

/** Longest partition name a store accepts (the TypeORM column is `varchar(64)`). */
export const MAX_PARTITION_LENGTH = 64;

/** Letters, digits, `.`, `_`, `-`; starting with a letter or digit. Safe in SQL values, Redis keys and lock names. */
const PARTITION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Check a store's `partition` option (seed 002's partition key: several apps share one backend, each sees only its
 * own sessions). `undefined` means the unpartitioned space and is returned as `''`, the value those rows carry.
 * Anything else must be a non-empty string of at most 64 safe characters, or construction fails with
 * `InvalidValiBlobOptionsError` (a configuration mistake, reported at bootstrap).
 */
export function validatePartition(option: string, value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > MAX_PARTITION_LENGTH || !PARTITION_PATTERN.test(value)) {
    throw new InvalidValiBlobOptionsError([
      `${option} must be a non-empty string of at most ${MAX_PARTITION_LENGTH} characters from A-Z a-z 0-9 . _ - ` +
        `(starting with a letter or digit); got ${describeValue(value)}`,
    ]);
  }
  return value;
}

function describeValue(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
