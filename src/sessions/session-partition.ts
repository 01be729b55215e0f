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
  const problem = partitionProblem(option, value);
  if (problem !== null) throw new InvalidValiBlobOptionsError([problem]);
  return (value as string | undefined) ?? '';
}

/**
 * The problem with a `partition` option as one report line (`null` when fine or unset), for validators that
 * collect every problem before throwing (the Redis store, locker and quota store, the server's env check).
 */
export function partitionProblem(option: string, value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value === 'string' && value.length <= MAX_PARTITION_LENGTH && PARTITION_PATTERN.test(value)) return null;
  return (
    `${option} must be a non-empty string of at most ${MAX_PARTITION_LENGTH} characters from A-Z a-z 0-9 . _ - ` +
    `(starting with a letter or digit); got ${describeValue(value)}`
  );
}

function describeValue(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
