import type { DynamicModule } from '@nestjs/common';
import type { CleanupOptions, LockOptions, SessionStoreConfig } from '../vali-blob.options';

/** What a backend contributes to the server: modules to import and the session store / locker recipes. */
export interface ServerWiring {
  imports: DynamicModule[];
  sessionStore?: SessionStoreConfig;
  locker?: LockOptions['locker'];
  /** Lock so only one server instance sweeps stale uploads per run (default: process-local). */
  cleanupLock?: CleanupOptions['lock'];
  /** Describes the wiring in the start-up log (no secrets). */
  description: string;
}
