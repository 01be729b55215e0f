import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadServerConfig } from '../../src/server/server.config';
import { dataSourceOptionsFromUrl } from '../../src/sessions/typeorm/database-url';
import { chooseSqliteDriver, installedTypeOrm, SqliteDriverError } from '../../src/sessions/typeorm/sqlite-driver';
import { scratchDir } from './typeorm-test-db';

const tmp = scratchDir('sqlite-driver');
afterAll(() => tmp.cleanup());
let trees = 0;

/**
 * A real node_modules tree on disk with a TypeORM of `version` and the given driver packages (tiny stand-ins:
 * the choice only resolves them, it never loads them), so resolution runs exactly as in an app.
 */
function appTree(version: string, drivers: string[]): string {
  const root = join(tmp.dir, `app-${trees++}`);
  const pkg = (name: string, json: object) => {
    const dir = join(root, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, main: 'index.js', ...json }));
    writeFileSync(join(dir, 'index.js'), 'module.exports = {};\n');
  };
  // TypeORM's real exports map: `typeorm/package.json` is NOT requirable, the version must be read from disk.
  pkg('typeorm', { version, exports: { '.': { require: './index.js' }, './*': { require: './*.js' } } });
  for (const driver of drivers) pkg(driver, { version: '12.0.0' });
  return root;
}

describe('chooseSqliteDriver: the SQLite driver the installed TypeORM supports', () => {
  it('TypeORM 1.x → better-sqlite3', () => {
    expect(chooseSqliteDriver({ from: appTree('1.1.1', ['better-sqlite3', 'sqlite3']) })).toBe('better-sqlite3');
  });

  it('TypeORM 1.x without better-sqlite3 → SQLITE_DRIVER_MISSING naming better-sqlite3 (sqlite3: no fallback)', () => {
    const from = appTree('1.0.0', ['sqlite3']);
    const error = catchError(() => chooseSqliteDriver({ from }));
    expect(error).toBeInstanceOf(SqliteDriverError);
    expect(error).toMatchObject({
      code: 'SQLITE_DRIVER_MISSING',
      packageName: 'better-sqlite3',
      typeormVersion: '1.0.0',
    });
    expect((error as Error).message).toContain('npm install better-sqlite3@^12');
  });

  it('TypeORM 1.x with sqlite3 asked for → SQLITE_DRIVER_UNSUPPORTED pointing at better-sqlite3', () => {
    const error = catchError(() =>
      chooseSqliteDriver({ from: appTree('1.1.1', ['sqlite3', 'better-sqlite3']), driver: 'sqlite3' }),
    );
    expect(error).toMatchObject({
      code: 'SQLITE_DRIVER_UNSUPPORTED',
      packageName: 'better-sqlite3',
      typeormVersion: '1.1.1',
    });
    expect((error as Error).message).toMatch(/1\.1\.1 has no sqlite3 driver/);
  });

  it('TypeORM 0.3 → sqlite3 when installed, better-sqlite3 when only that is, or the one asked for', () => {
    expect(chooseSqliteDriver({ from: appTree('0.3.20', ['sqlite3', 'better-sqlite3']) })).toBe('sqlite3');
    expect(chooseSqliteDriver({ from: appTree('0.3.31', ['better-sqlite3']) })).toBe('better-sqlite3');
    expect(
      chooseSqliteDriver({ from: appTree('0.3.31', ['sqlite3', 'better-sqlite3']), driver: 'better-sqlite3' }),
    ).toBe('better-sqlite3');
  });

  it('TypeORM 0.3 without a driver → SQLITE_DRIVER_MISSING naming sqlite3 and the better-sqlite3 alternative', () => {
    const error = catchError(() => chooseSqliteDriver({ from: appTree('0.3.31', []) }));
    expect(error).toMatchObject({ code: 'SQLITE_DRIVER_MISSING', packageName: 'sqlite3', typeormVersion: '0.3.31' });
    expect((error as Error).message).toContain('npm install sqlite3 (or better-sqlite3@^12)');
    const asked = catchError(() =>
      chooseSqliteDriver({ from: appTree('0.3.31', ['sqlite3']), driver: 'better-sqlite3' }),
    );
    expect(asked).toMatchObject({ code: 'SQLITE_DRIVER_MISSING', packageName: 'better-sqlite3' });
  });

  it('refuses a driver name it does not know', () => {
    expect(() => chooseSqliteDriver({ from: appTree('0.3.31', ['sqlite3']), driver: 'sqlite' as never })).toThrow(
      TypeError,
    );
  });
});

describe('the embedded default on the TypeORM installed here', () => {
  const typeorm = installedTypeOrm();

  it('reads the version of the TypeORM that require() loads', () => {
    const entry = require.resolve('typeorm');
    expect(entry.startsWith(typeorm.dir)).toBe(true);
    expect(JSON.parse(readFileSync(join(typeorm.dir, 'package.json'), 'utf8')).version).toBe(typeorm.version);
    expect(dirname(entry)).toBe(typeorm.dir);
  });

  it('sqlite: URLs use the driver of this line (1.x: better-sqlite3, 0.3: sqlite3)', () => {
    const options = dataSourceOptionsFromUrl('sqlite:./x.sqlite');
    expect(options).toMatchObject(
      typeorm.major >= 1
        ? { type: 'better-sqlite3', database: './x.sqlite', timeout: 5000, enableWAL: true }
        : { type: 'sqlite', database: './x.sqlite', busyTimeout: 10_000, enableWAL: true },
    );
    expect(dataSourceOptionsFromUrl('sqlite::memory:')).toMatchObject({ database: ':memory:', enableWAL: false });
  });

  it('sqlite3 (0.3 line) stays out of verbose mode, which formats every statement with util.inspect', async () => {
    if (typeorm.major >= 1) return; // 1.x has no sqlite3 driver: nothing to keep quiet
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the same module instance TypeORM loads
    const sqlite3 = require('sqlite3') as { Database: { prototype: Record<string, unknown> } };
    const dataSource = new DataSource(dataSourceOptionsFromUrl('sqlite::memory:'));
    await dataSource.initialize();
    try {
      expect(await dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      // Verbose mode replaces these methods with wrappers that build an Error and inspect the arguments.
      expect(String(sqlite3.Database.prototype.run)).not.toContain('util.inspect');
      expect(String(sqlite3.Database.prototype.all)).not.toContain('util.inspect');
    } finally {
      await dataSource.destroy();
    }
  });

  it('the runnable server lists a bad SQLITE_DRIVER (or sqlite3 on 1.x) with the other start-up problems', () => {
    // Both problems at once, as every other environment problem.
    expect(() => loadServerConfig({ SQLITE_DRIVER: 'sqlite', PORT: 'x' })).toThrow(
      /PORT must be[\s\S]*SQLITE_DRIVER must be sqlite3 or better-sqlite3/,
    );
    if (typeorm.major >= 1) {
      expect(() => loadServerConfig({ SQLITE_DRIVER: 'sqlite3' })).toThrow(
        /has no sqlite3 driver[\s\S]*better-sqlite3/,
      );
      // With REDIS_URL the SQLite database is not used, so its driver does not matter.
      expect(loadServerConfig({ SQLITE_DRIVER: 'sqlite3', REDIS_URL: 'redis://127.0.0.1:6379' }).sqliteDriver).toBe(
        'sqlite3',
      );
    } else {
      expect(loadServerConfig({ SQLITE_DRIVER: 'sqlite3' }).sqliteDriver).toBe('sqlite3');
    }
    expect(loadServerConfig({}).sqliteDriver).toBeUndefined();
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
