import { partitionProblem } from '../session-partition';

/**
 * Problems with a `partition` option (empty when fine or unset). The rule is every store's (`session-partition.ts`):
 * it becomes a key segment, and its characters exclude `:`, `{`, `}`, glob characters and spaces.
 */
export function partitionProblems(partition: unknown, who: string): string[] {
  const problem = partitionProblem(`${who}: partition`, partition);
  return problem === null ? [] : [problem];
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
