/**
 * Race a promise against a timer; the timer is always cleared, and a late result of a timed-out call is ignored.
 * The one time limit used by the engine, the stores, the health probes and the cleanup job.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
