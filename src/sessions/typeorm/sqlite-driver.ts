import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// No runtime import of typeorm here: the version is read from its package.json on disk, so choosing a driver never
// loads TypeORM (or a native driver) and works the same for either line.

/** npm packages TypeORM can drive SQLite with: `sqlite3` (TypeORM 0.3 only) or `better-sqlite3` (0.3 and 1.x). */
export type SqliteDriverPackage = 'sqlite3' | 'better-sqlite3';

/** Stable codes of `SqliteDriverError`. */
export type SqliteDriverErrorCode = 'SQLITE_DRIVER_MISSING' | 'SQLITE_DRIVER_UNSUPPORTED';

/**
 * The SQLite driver a `sqlite:` database URL needs is not installed (`SQLITE_DRIVER_MISSING`), or the one asked for
 * does not exist in the installed TypeORM (`SQLITE_DRIVER_UNSUPPORTED`: `sqlite3` on TypeORM 1.x). Thrown at
 * start-up, never while serving; `packageName` is the package to install (or use).
 */
export class SqliteDriverError extends Error {
  constructor(
    /** Stable code, safe to branch on. */
    readonly code: SqliteDriverErrorCode,
    /** The npm package to install (MISSING) or to use instead (UNSUPPORTED). */
    readonly packageName: SqliteDriverPackage,
    /** Version of the TypeORM that was found. */
    readonly typeormVersion: string,
    message: string,
  ) {
    super(message);
    this.name = 'SqliteDriverError';
  }
}

/** Where TypeORM was found and which version it is. */
export interface InstalledTypeOrm {
  version: string;
  /** Major version as a number (0 for the 0.3 line). */
  major: number;
  /** Package directory; drivers are resolved from here, as TypeORM itself loads them. */
  dir: string;
}

/**
 * The TypeORM that `require('typeorm')` loads from `from` (default: this library's own location, i.e. the app's).
 * `typeorm/package.json` is not in TypeORM's `exports` (its `./*` entry maps to `./*.js`), so the package.json is
 * found by walking up from the resolved entry point.
 */
export function installedTypeOrm(from: string = __dirname): InstalledTypeOrm {
  let dir = dirname(require.resolve('typeorm', { paths: [from] }));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'typeorm' && typeof pkg.version === 'string') {
        return { version: pkg.version, major: Number(pkg.version.split('.')[0]), dir };
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Found typeorm at ${from} but not its package.json`);
    dir = parent;
  }
}

/** Options of `chooseSqliteDriver`. */
export interface ChooseSqliteDriverOptions {
  /** Force a driver instead of choosing by the installed TypeORM (e.g. `better-sqlite3` on 0.3 with both installed). */
  driver?: SqliteDriverPackage;
  /** Directory to resolve `typeorm` from (default: this library's location). */
  from?: string;
}

/**
 * The SQLite driver for the installed TypeORM: on 1.x `better-sqlite3` (1.x dropped `sqlite3`); on 0.3 `sqlite3`
 * when installed (the long-standing default), otherwise `better-sqlite3`. Throws `SqliteDriverError` naming the
 * package to install when the needed one is missing, instead of TypeORM's generic "driver not installed" at connect.
 */
export function chooseSqliteDriver(options: ChooseSqliteDriverOptions = {}): SqliteDriverPackage {
  if (options.driver !== undefined && options.driver !== 'sqlite3' && options.driver !== 'better-sqlite3') {
    throw new TypeError(`SQLite driver must be sqlite3 or better-sqlite3 (got ${String(options.driver)})`);
  }
  const typeorm = installedTypeOrm(options.from);
  const has = (name: SqliteDriverPackage) => resolvable(name, typeorm.dir);
  const where = `TypeORM ${typeorm.version}`;
  if (typeorm.major >= 1) {
    if (options.driver === 'sqlite3') {
      throw new SqliteDriverError(
        'SQLITE_DRIVER_UNSUPPORTED',
        'better-sqlite3',
        typeorm.version,
        `${where} has no sqlite3 driver (TypeORM 1.x supports SQLite through better-sqlite3 only): ` +
          'use better-sqlite3 (npm install better-sqlite3@^12)',
      );
    }
    if (!has('better-sqlite3')) {
      throw missing('better-sqlite3', typeorm.version, `${where} drives SQLite through better-sqlite3`);
    }
    return 'better-sqlite3';
  }
  if (options.driver) {
    if (!has(options.driver)) {
      throw missing(options.driver, typeorm.version, `the ${options.driver} driver was asked for`);
    }
    return options.driver;
  }
  if (has('sqlite3')) return 'sqlite3';
  if (has('better-sqlite3')) return 'better-sqlite3';
  throw missing('sqlite3', typeorm.version, `${where} needs a SQLite driver`, ' (or better-sqlite3@^12)');
}

function missing(name: SqliteDriverPackage, version: string, why: string, alternative = ''): SqliteDriverError {
  const spec = name === 'better-sqlite3' ? 'better-sqlite3@^12' : 'sqlite3';
  return new SqliteDriverError(
    'SQLITE_DRIVER_MISSING',
    name,
    version,
    `A sqlite: database needs the ${name} package, which is not installed (${why}): npm install ${spec}${alternative}`,
  );
}

function resolvable(name: string, from: string): boolean {
  try {
    require.resolve(name, { paths: [from] });
    return true;
  } catch {
    return false;
  }
}

/**
 * The `sqlite3` module as TypeORM would load it, but kept out of sqlite3's verbose mode. TypeORM 0.3 calls
 * `.verbose()` on whatever driver it gets; verbose sqlite3 wraps every statement to format its arguments with
 * `util.inspect` and keep a stack trace. In a CPU profile of the runnable server at 1 MiB chunks that was about a
 * sixth of the busy time. Errors still carry sqlite3's message and code; only the extended stack is gone.
 */
export function quietSqlite3(from: string = __dirname): unknown {
  const typeorm = installedTypeOrm(from);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved from TypeORM's location, as it loads it
  const sqlite3 = require(require.resolve('sqlite3', { paths: [typeorm.dir] })) as object;
  return Object.assign(Object.create(sqlite3) as object, { verbose: () => sqlite3 });
}
