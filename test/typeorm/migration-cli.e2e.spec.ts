import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Database } from 'sqlite3';
import { VALIBLOB_MIGRATIONS } from '../../migrations';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/** Tables of a SQLite file, read with the driver directly (not through TypeORM). */
function tables(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const db = new Database(file);
    db.all(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
      (error, rows: Array<{ name: string }>) => {
        db.close();
        if (error) reject(error);
        else resolve(rows.map((r) => r.name));
      },
    );
  });
}

/**
 * The npm scripts of the README (`migration:show|run|revert`) against `ormconfig.ts`, exactly as a user runs them,
 * on a SQLite file chosen through DATABASE_URL.
 */
describe('TypeORM CLI scripts against ormconfig.ts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vb-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const npm = (script: string, file: string) =>
    run('npm', ['run', '--silent', script], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: `sqlite:${file}` },
      timeout: 120_000,
    });

  it('shows, runs and reverts the migrations', async () => {
    const file = join(dir, 'cli.sqlite');
    const before = await npm('migration:show', file);
    expect(before.stdout).toMatch(/\[ \] CreateValiBlobTables\d{13}/);
    await npm('migration:run', file);
    expect(await tables(file)).toEqual(
      expect.arrayContaining(['valiblob_upload_sessions', 'valiblob_upload_locks', 'valiblob_quota_entries']),
    );
    const after = await npm('migration:show', file);
    expect(after.stdout).toMatch(/\[X\] \d+ CreateValiBlobTables\d{13}|\[X\] CreateValiBlobTables\d{13}/);
    // `migration:revert` undoes one migration per call: revert every one of ours.
    for (let i = 0; i < VALIBLOB_MIGRATIONS.length; i++) await npm('migration:revert', file);
    const left = await tables(file);
    expect(left).not.toContain('valiblob_upload_sessions');
    expect(left).not.toContain('valiblob_upload_locks');
    expect(left).not.toContain('valiblob_quota_entries');
  }, 300_000);
});
