// Subpath entry `@vali-blob/nestjs/health`: Terminus health indicators. `@nestjs/terminus` is an optional peer,
// so nothing here is re-exported from the root entry.
export { ValiBlobHealthIndicator } from './health/vali-blob.health-indicator';
export { ValiBlobHealthModule } from './health/vali-blob-health.module';
export type {
  ValiBlobHealthCheckAllOptions,
  CleanupBacklogHealthOptions,
  SessionStoreHealthOptions,
  StorageHealthOptions,
  ScannerHealthOptions,
} from './health/vali-blob.health-indicator';
export { toHealthFailure } from './health/health-failure';
export type { HealthFailure } from './health/health-failure';
