/** Whether `dir` holds a finished install younger than `maxAgeMs` (and `refresh` does not ask for a new one). */
export function installWarm(dir: string, options: { maxAgeMs: number; refresh?: boolean }): boolean;

/**
 * The cached tree in `dir`, installed first when it is not warm: `install(partial)` fills a private sibling folder
 * that is marked ready and renamed into place only when it resolves.
 */
export function ensureInstalled(
  dir: string,
  options: { maxAgeMs: number; refresh?: boolean; install: (partial: string) => Promise<unknown>; marker?: object },
): Promise<{ dir: string; cached: boolean }>;
