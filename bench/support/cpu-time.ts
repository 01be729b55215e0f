import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { GiB } from './processes';

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux in practice). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds (user + system) a process has used so far, all its threads included: fields 14 (utime) and 15 (stime)
 * of `/proc/<pid>/stat`. Fields are counted after the `)` closing the command name, which may itself hold spaces.
 */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Run `work` and return its result with the CPU seconds the process `pid` used meanwhile. */
export async function measureCpu<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; cpuSeconds: number }> {
  const before = processCpuSeconds(pid);
  const result = await work();
  return { result, cpuSeconds: processCpuSeconds(pid) - before };
}

/** CPU seconds per GiB moved, rounded to two decimals (ticks are 10 ms: small uploads give coarse figures). */
export function cpuSecondsPerGiB(cpuSeconds: number, bytes: number): number {
  return Math.round((cpuSeconds / (bytes / GiB)) * 100) / 100;
}
