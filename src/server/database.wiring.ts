import type { ServerConfig } from './server.config';
import type { ServerWiring } from './server.wiring';

/**
 * Sessions for `DATABASE_URL` (SQLite by default, PostgreSQL for `postgres://`).
 * Until the TypeORM store lands this keeps sessions in memory.
 */
export function databaseWiring(config: ServerConfig): ServerWiring {
  return { imports: [], sessionStore: 'memory', description: `memory sessions (DATABASE_URL ${redact(config.databaseUrl)} not wired yet)` };
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
