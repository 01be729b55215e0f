import type { CronJob } from 'cron';

/**
 * The part of `@nestjs/schedule`'s `SchedulerRegistry` the cleanup service uses. Typed structurally so the
 * library's root entry never needs `@nestjs/schedule` (an optional peer) to load or type-check.
 */
export interface SchedulerRegistryLike {
  doesExist(type: 'cron', name: string): boolean;
  addCronJob(name: string, job: CronJob): void;
  deleteCronJob(name: string): void;
}

/**
 * DI token of the app's `SchedulerRegistry` when `@nestjs/schedule` is installed; otherwise a private symbol
 * nobody provides, so the `@Optional()` injection simply yields `undefined`.
 */
export const SCHEDULER_REGISTRY_TOKEN: unknown = loadSchedulerRegistry();

function loadSchedulerRegistry(): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, loaded lazily: may be absent
    return require('@nestjs/schedule').SchedulerRegistry;
  } catch {
    return Symbol('VALIBLOB:NO_SCHEDULER_REGISTRY');
  }
}
