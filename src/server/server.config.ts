import { resolve } from 'node:path';
import { chooseSqliteDriver, SqliteDriverPackage } from '../sessions/typeorm/sqlite-driver';
import { LogFormat, parseLogFormat } from './logging.wiring';
import { parseAdminEnv, ServerAdminConfig } from './admin.wiring';
import { parseOnOff } from './env-switch';

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
  /** `DIGEST_THREADS`: threads hashing the whole file (unset: the module's default; 0: on the main thread). */
  digestThreads: number | undefined;
  /** The upload policy asked for by `ALLOWED_TYPES`, `SNIFF`, `QUOTA_BYTES`, `CLAMD`, … (see `policyFromConfig`). */
  policy: ServerPolicyConfig;
  /** `LOG_FORMAT=text|json`: Nest's console lines (default) or one JSON object per line (nestjs-pino). */
  logFormat: LogFormat;
  /** `ADMIN=on`: the admin routes at /admin/uploads behind `ADMIN_TOKEN` (default `AUTH_TOKEN`); else `null`. */
  admin: ServerAdminConfig | null;
  /** `METRICS=on`: `GET /metrics` in the Prometheus text format, through the OpenTelemetry SDK (default off). */
  metrics: boolean;
}

/** Where clamd listens: TCP (`CLAMD=host:port`) or a Unix socket (`CLAMD=unix:/path`). */
export type ClamdAddress = { host: string; port: number } | { socketPath: string };

/** The policy part of the server's environment, validated; `null` / `'off'` = not asked for. */
export interface ServerPolicyConfig {
  /** `ALLOWED_TYPES=image/*,application/pdf`: content types allowed (lower-cased, `type/*` wildcards). */
  allowedContentTypes: string[] | null;
  /** `ALLOWED_EXTENSIONS=png,jpg,tar.gz`: extensions allowed on the final path (lower-cased, no dot). */
  allowedExtensions: string[] | null;
  /** `BLOCKED_EXTENSIONS=exe,js`: extensions refused anywhere in the file name (lower-cased, no dot). */
  blockedExtensions: string[] | null;
  /** `SNIFF=off|on|enforce`: detect the type from magic bytes (`on`), and refuse a contradicting one (`enforce`). */
  sniff: 'off' | 'on' | 'enforce';
  /** `QUOTA_BYTES=<n>`: bytes per owner (every anonymous upload shares one key, `*`). */
  quotaBytes: number | null;
  /** `CLAMD=host:port|unix:/path`: scan every upload with clamd before it is published. */
  clamd: ClamdAddress | null;
  /** `CLAMD_ON_ERROR=reject|allow`: what happens when clamd cannot answer (default `reject`, fail closed). */
  clamdOnError: 'reject' | 'allow';
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
  const digestThreads = env.DIGEST_THREADS ? Number(env.DIGEST_THREADS) : undefined;
  if (digestThreads !== undefined && !(Number.isSafeInteger(digestThreads) && digestThreads >= 0))
    problems.push('DIGEST_THREADS must be an integer >= 0');
  const databaseUrl = env.DATABASE_URL || 'sqlite:./data/vali-blob.sqlite';
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl))
    problems.push('DATABASE_URL must start with sqlite: or postgres://');
  const sqliteDriver = env.SQLITE_DRIVER || undefined;
  if (sqliteDriver !== undefined && sqliteDriver !== 'sqlite3' && sqliteDriver !== 'better-sqlite3') {
    problems.push('SQLITE_DRIVER must be sqlite3 or better-sqlite3');
  } else if (!(env.REDIS_URL || env.REDIS_CLUSTER || env.REDIS_SENTINELS) && databaseUrl.startsWith('sqlite:')) {
    // The SQLite database is in use (Redis would replace it): a driver the installed TypeORM cannot use is
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
  const policy = parsePolicyEnv(env, problems);
  const logFormat = parseLogFormat(env, problems);
  const admin = parseAdminEnv(env, ownerTokens, problems);
  const metrics = parseOnOff(env, 'METRICS', problems);
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
    digestThreads,
    policy,
    logFormat,
    admin,
    metrics: metrics === true,
  };
}

/** A media type or a `type/*` wildcard (RFC 6838 restricted names; `*\/*` would allow everything: leave it unset). */
const MEDIA_RANGE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/;
/** An extension without its dot; several parts for `tar.gz`. */
const EXTENSION = /^[a-z0-9]{1,32}(\.[a-z0-9]{1,32}){0,3}$/;

/** Parse the policy variables; every problem is pushed. */
function parsePolicyEnv(env: NodeJS.ProcessEnv, problems: string[]): ServerPolicyConfig {
  const allowedContentTypes = parseList(
    env,
    'ALLOWED_TYPES',
    problems,
    (v) => MEDIA_RANGE.test(v),
    'type/subtype or type/*',
  );
  // A leading dot is what people type (`.exe`); the policy compares without it.
  const extension = (v: string) => EXTENSION.test(v);
  const allowedExtensions = parseList(
    env,
    'ALLOWED_EXTENSIONS',
    problems,
    extension,
    'an extension like png or tar.gz',
    true,
  );
  const blockedExtensions = parseList(env, 'BLOCKED_EXTENSIONS', problems, extension, 'an extension like exe', true);
  const both = (allowedExtensions ?? []).filter((ext) => blockedExtensions?.includes(ext));
  if (both.length > 0) problems.push(`ALLOWED_EXTENSIONS and BLOCKED_EXTENSIONS both name ${both.join(', ')}`);
  const sniff = (env.SNIFF || 'off').toLowerCase();
  if (sniff !== 'off' && sniff !== 'on' && sniff !== 'enforce') problems.push('SNIFF must be off, on or enforce');
  let quotaBytes: number | null = null;
  if (env.QUOTA_BYTES) {
    quotaBytes = Number(env.QUOTA_BYTES);
    // Digits only: `1e9` or `0x10` are more likely typos than budgets.
    if (!/^\d+$/.test(env.QUOTA_BYTES) || !Number.isSafeInteger(quotaBytes) || quotaBytes <= 0)
      problems.push('QUOTA_BYTES must be a positive integer (bytes)');
  }
  const clamd = env.CLAMD ? parseClamd(env.CLAMD, problems) : null;
  const onError = (env.CLAMD_ON_ERROR || 'reject').toLowerCase();
  if (onError !== 'reject' && onError !== 'allow') problems.push('CLAMD_ON_ERROR must be reject or allow');
  else if (env.CLAMD_ON_ERROR && !env.CLAMD) problems.push('CLAMD_ON_ERROR is set but CLAMD is not');
  return {
    allowedContentTypes,
    allowedExtensions,
    blockedExtensions,
    sniff: sniff as ServerPolicyConfig['sniff'],
    quotaBytes,
    clamd,
    clamdOnError: onError as ServerPolicyConfig['clamdOnError'],
  };
}

/** `a, b,c` → `['a','b','c']` lower-cased; `null` when unset; each bad entry is pushed with its position. */
function parseList(
  env: NodeJS.ProcessEnv,
  name: string,
  problems: string[],
  valid: (entry: string) => boolean,
  expected: string,
  stripDot = false,
): string[] | null {
  const value = env[name];
  if (value === undefined || value.trim() === '') return null;
  const entries: string[] = [];
  let invalid = false;
  value.split(',').forEach((raw, i) => {
    let entry = raw.trim().toLowerCase();
    if (stripDot && entry.startsWith('.')) entry = entry.slice(1);
    // A trailing comma is harmless; an empty entry in the middle is still no entry.
    if (entry === '') return;
    if (!valid(entry)) {
      invalid = true;
      problems.push(`${name} entry ${i + 1} must be ${expected} (got "${raw.trim()}")`);
    } else if (!entries.includes(entry)) entries.push(entry);
  });
  if (entries.length === 0 && !invalid) problems.push(`${name} names nothing`);
  return entries;
}

/** `host:port`, `[v6]:port` or `unix:/absolute/path`. */
function parseClamd(value: string, problems: string[]): ClamdAddress | null {
  const bad = 'CLAMD must be host:port or unix:/absolute/path';
  value = value.trim();
  if (value.startsWith('unix:')) {
    const socketPath = value.slice('unix:'.length);
    if (!socketPath.startsWith('/')) problems.push(bad);
    return socketPath.startsWith('/') ? { socketPath } : null;
  }
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    problems.push(bad);
    return null;
  }
  // Node's net.connect wants a bare IPv6 address, without the URL brackets.
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
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
