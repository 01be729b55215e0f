/**
 * The problems found while validating options, collected rather than thrown one by one, so one bootstrap tells
 * the operator everything that is wrong.
 */
export class OptionProblems {
  readonly list: string[] = [];

  /** Record a problem. */
  add(problem: string): void {
    this.list.push(problem);
  }

  /** `value`, or `fallback` when undefined; a problem (and `fallback`) when it is not an integer in [min, max]. */
  intInRange(key: string, value: unknown, fallback: number, min: number, max: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      this.add(`${key} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
      return fallback;
    }
    return value;
  }

  /** `value`, or `fallback` when it is undefined; a problem (and `fallback`) when it is not a positive integer. */
  positiveInt(key: string, value: unknown, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      this.add(`${key} must be a positive integer (got ${JSON.stringify(value)})`);
      return fallback;
    }
    return value;
  }
}
