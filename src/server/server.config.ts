import { resolve } from 'node:path';
import { chooseSqliteDriver, SqliteDriverPackage } from '../sessions/typeorm/sqlite-driver';

/** Settings of the runnable server, read from the environment (DESIGN §7). */
export interface ServerConfig {
  port: number;
  host: string;
  databaseUrl: string;
  /**
   * `SQLITE_DRIVER=sqlite3|better-sqlite3` forces the driver of a `sqlite:` URL; unset = chosen by the installed
   * TypeORM.
   */
  sqliteDriver: SqliteDriverPackage | undefined;
  redisUrl: string | null;
  storageDir: string;
  maxUploadSize: number | undefined;
  authToken: string | null;
  /**
   * `AUTH_TOKENS=owner:token,…`: one owner per bearer token, and owner scope on (each owner gets its own path space;
   * no anonymous access). `null` when unset. Exclusive with `AUTH_TOKEN`.
   */
  ownerTokens: Array<{ owner: string; token: string }> | null;
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
    if (!Number.isSafeInteger(maxUploadSize) || maxUploadSize <= 0)
      problems.push('MAX_UPLOAD_SIZE must be a positive integer (bytes)');
  }
  const databaseUrl = env.DATABASE_URL || 'sqlite:./data/vali-blob.sqlite';
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl))
    problems.push('DATABASE_URL must start with sqlite: or postgres://');
  const sqliteDriver = env.SQLITE_DRIVER || undefined;
  if (sqliteDriver !== undefined && sqliteDriver !== 'sqlite3' && sqliteDriver !== 'better-sqlite3') {
    problems.push('SQLITE_DRIVER must be sqlite3 or better-sqlite3');
  } else if (!env.REDIS_URL && databaseUrl.startsWith('sqlite:')) {
    // The SQLite database is in use (REDIS_URL would replace it): a driver the installed TypeORM cannot use is
    // reported now, with the package to install, rather than as TypeORM's connection failure after Nest started.
    try {
      chooseSqliteDriver({ driver: sqliteDriver });
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const release = (env.LOCK_REQUEST_RELEASE ?? 'true').toLowerCase();
  const checksum = (env.WHOLE_FILE_CHECKSUM ?? 'true').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(checksum)) problems.push('WHOLE_FILE_CHECKSUM must be true or false');
  if (!['true', 'false', '1', '0'].includes(release)) problems.push('LOCK_REQUEST_RELEASE must be true or false');
  const ownerTokens = parseOwnerTokens(env.AUTH_TOKENS, problems);
  if (ownerTokens && env.AUTH_TOKEN) {
    // An anonymous token has no owner space to go to under owner scope: refuse the mix instead of guessing.
    problems.push('Set AUTH_TOKEN (one anonymous token) or AUTH_TOKENS (owner:token pairs, owner scope), not both');
  }
  if (problems.length > 0) throw new Error(`Invalid server environment:\n - ${problems.join('\n - ')}`);
  return {
    port,
    host: env.HOST || '0.0.0.0',
    databaseUrl,
    sqliteDriver: sqliteDriver as SqliteDriverPackage | undefined,
    redisUrl: env.REDIS_URL || null,
    storageDir: resolve(env.STORAGE_DIR || './data/blobs'),
    maxUploadSize,
    authToken: env.AUTH_TOKEN || null,
    ownerTokens,
    lockRequestRelease: release === 'true' || release === '1',
    wholeFileChecksum: checksum === 'true' || checksum === '1',
  };
}

/** Owner ids the server accepts: the library's safe single-segment rule (see `OWNER_ID_PATTERN`). */
const SERVER_OWNER = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

/** Parse `owner:token,owner:token`; every problem is pushed (tokens themselves are never echoed). */
function parseOwnerTokens(
  value: string | undefined,
  problems: string[],
): Array<{ owner: string; token: string }> | null {
  if (value === undefined || value.trim() === '') return null;
  const pairs: Array<{ owner: string; token: string }> = [];
  const owners = new Set<string>();
  const tokens = new Set<string>();
  value.split(',').forEach((entry, i) => {
    const at = entry.indexOf(':');
    const owner = at < 0 ? '' : entry.slice(0, at).trim();
    const token = at < 0 ? '' : entry.slice(at + 1).trim();
    if (!SERVER_OWNER.test(owner) || token === '') {
      problems.push(`AUTH_TOKENS entry ${i + 1} must be owner:token with owner matching ${SERVER_OWNER.source}`);
    } else if (owners.has(owner)) problems.push(`AUTH_TOKENS names owner "${owner}" twice`);
    else if (tokens.has(token)) problems.push(`AUTH_TOKENS gives two owners the same token (entry ${i + 1})`);
    else {
      owners.add(owner);
      tokens.add(token);
      pairs.push({ owner, token });
    }
  });
  return pairs;
}
