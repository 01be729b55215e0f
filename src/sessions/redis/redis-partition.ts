/** What a partition name may be: it becomes a key segment, so no `:`, `{`, `}`, glob characters or spaces. */
const PARTITION_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Problems with a `partition` option (empty when fine or unset). */
export function partitionProblems(partition: unknown, who: string): string[] {
  if (partition === undefined) return [];
  if (typeof partition === 'string' && PARTITION_PATTERN.test(partition)) return [];
  return [`${who}: partition must be 1-64 characters of A-Z a-z 0-9 _ . -`];
}

/**
 * Insert the partition segment into a key prefix: before a trailing `<role>:` (`valiblob:session:` →
 * `valiblob:<partition>:session:`), else appended (`app:` → `app:<partition>:`). No partition: unchanged, so
 * deployments without one keep their keys.
 */
export function partitionedPrefix(prefix: string, partition: string | undefined, role: string): string {
  if (partition === undefined) return prefix;
  const suffix = `${role}:`;
  if (prefix.endsWith(suffix)) return `${prefix.slice(0, -suffix.length)}${partition}:${suffix}`;
  return `${prefix}${partition}:`;
}
