import type { ValueTransformer } from 'typeorm';

/**
 * `bigint` columns ↔ JS numbers. node-postgres returns int8 as a string (it cannot know the value fits a
 * double), SQLite returns a number; both become a number here. Every bigint we store (byte counts, epoch-ms
 * timestamps, epoch-µs fences ≈ 1.7e15) is below `Number.MAX_SAFE_INTEGER`, which `from` asserts rather than
 * silently rounding.
 */
export const bigintNumberTransformer: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null | undefined): number | null => {
    if (value === null || value === undefined) return null;
    const parsed = typeof value === 'number' ? value : Number(value);
    if (!Number.isSafeInteger(parsed)) {
      throw new RangeError(`bigint column value ${String(value)} is not a safe integer`);
    }
    return parsed;
  },
};

/**
 * Objects ↔ JSON in a `text` column. Portable where `json`/`jsonb` is not (SQLite has neither type), and the
 * store never queries inside these documents, so nothing is lost by keeping them opaque.
 */
export const jsonTextTransformer: ValueTransformer = {
  to: (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value)),
  from: (value: string | null | undefined): unknown =>
    value === null || value === undefined ? null : JSON.parse(value),
};
