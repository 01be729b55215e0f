import { resolve } from 'node:path';

/** Settings of the runnable server, read from the environment (DESIGN §7). */
export interface ServerConfig {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string | null;
  storageDir: string;
  maxUploadSize: number | undefined;
  authToken: string | null;
  /** A newer request for a busy upload asks the current writer to stop (tus model); `false` makes it wait / 423. */
  lockRequestRelease: boolean;
  /** Record the whole-file sha256 on complete (default true; `WHOLE_FILE_CHECKSUM=false` skips the hashing). */
  wholeFileChecksum: boolean;
}

/** Parse and validate the environment; every problem is reported at once. */
export function loadServerConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const problems: string[] = [];
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT must be 0..65535 (got ${env.PORT})`);
  let maxUploadSize: number | undefined;
  if (env.MAX_UPLOAD_SIZE) {
    maxUploadSize = Number(env.MAX_UPLOAD_SIZE);
    if (!Number.isSafeInteger(maxUploadSize) || maxUploadSize <= 0) problems.push('MAX_UPLOAD_SIZE must be a positive integer (bytes)');
  }
  const databaseUrl = env.DATABASE_URL || 'sqlite:./data/vali-blob.sqlite';
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) problems.push('DATABASE_URL must start with sqlite: or postgres://');
  const release = (env.LOCK_REQUEST_RELEASE ?? 'true').toLowerCase();
  const checksum = (env.WHOLE_FILE_CHECKSUM ?? 'true').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(checksum)) problems.push('WHOLE_FILE_CHECKSUM must be true or false');
  if (!['true', 'false', '1', '0'].includes(release)) problems.push('LOCK_REQUEST_RELEASE must be true or false');
  if (problems.length > 0) throw new Error(`Invalid server environment:\n - ${problems.join('\n - ')}`);
  return {
    port,
    host: env.HOST || '0.0.0.0',
    databaseUrl,
    redisUrl: env.REDIS_URL || null,
    storageDir: resolve(env.STORAGE_DIR || './data/blobs'),
    maxUploadSize,
    authToken: env.AUTH_TOKEN || null,
    lockRequestRelease: release === 'true' || release === '1',
    wholeFileChecksum: checksum === 'true' || checksum === '1',
  };
}
