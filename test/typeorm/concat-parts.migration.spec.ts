import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  AddUploadConflictPolicy1764500000000,
  CreateValiBlobTables1763600000000,
  ReplaceConcatWithParts1764900000000,
  VALIBLOB_MIGRATIONS,
} from '../../migrations';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { makeTestSession } from '../../src/testing/session-store.contract';
import { describePostgres } from './postgres-gate';
import { createScratchPostgres, ScratchPostgres, scratchDir, valiBlobDataSource } from './typeorm-test-db';

/** Write three rows the way the schema before `ReplaceConcatWithParts` stored them (tus wire strings). */
async function seedLegacyRows(url: string, ids: { partial: string; final: string; plain: string }): Promise<void> {
  const old = valiBlobDataSource(url, {
    migrations: [CreateValiBlobTables1763600000000, AddUploadConflictPolicy1764500000000],
    entities: [],
  });
  await old.initialize();
  try {
    await old.runMigrations();
    const postgres = old.options.type === 'postgres';
    const p = (n: number) => (postgres ? `$${n}` : '?');
    for (const [id, concat] of [
      [ids.partial, 'partial'],
      [ids.final, `final;${ids.partial} other-part`],
      [ids.plain, null],
    ] as const) {
      await old.query(
        `INSERT INTO valiblob_upload_sessions (upload_id, path, provider, total_size, uploaded_bytes, content_type,
          metadata, owner_id, status, created_at, updated_at, expires_at, version, provider_state, checksum, concat,
          fence, conflict)
         VALUES (${p(1)}, ${p(2)}, 'local', 1, 0, NULL, '{}', NULL, 'Pending', 1, 1, ${p(3)}, 1, NULL, NULL, ${p(4)},
          0, 'fail')`,
        [id, `legacy/${id}`, Date.now() + 60_000, concat],
      );
    }
  } finally {
    await old.destroy();
  }
}

function conversionContract(name: string, url: () => string) {
  it(`${name}: ReplaceConcatWithParts turns the tus wire string into partial/parts; down turns it back`, async () => {
    const ids = {
      partial: makeTestSession().uploadId,
      final: makeTestSession().uploadId,
      plain: makeTestSession().uploadId,
    };
    await seedLegacyRows(url(), ids);
    const current: DataSource = valiBlobDataSource(url());
    await current.initialize();
    try {
      await current.runMigrations();
      const store = new TypeOrmSessionStore(current);
      expect(await store.get(ids.partial)).toMatchObject({ partial: true, parts: null });
      expect(await store.get(ids.final)).toMatchObject({ partial: false, parts: [ids.partial, 'other-part'] });
      expect(await store.get(ids.plain)).toMatchObject({ partial: false, parts: null });

      // Undo down to and including ReplaceConcatWithParts (later migrations first).
      const from = VALIBLOB_MIGRATIONS.indexOf(ReplaceConcatWithParts1764900000000);
      for (let i = from; i < VALIBLOB_MIGRATIONS.length; i++) await current.undoLastMigration();
      const rows: Array<{ upload_id: string; concat: string | null }> = await current.query(
        'SELECT upload_id, concat FROM valiblob_upload_sessions',
      );
      const concatOf = (id: string) => rows.find((row) => row.upload_id === id)?.concat;
      expect(concatOf(ids.partial)).toBe('partial');
      expect(concatOf(ids.final)).toBe(`final;${ids.partial} other-part`);
      expect(concatOf(ids.plain)).toBeNull();
    } finally {
      await current.destroy();
    }
  });
}

describe('ReplaceConcatWithParts on SQLite', () => {
  const tmp = scratchDir('concat-parts');
  afterAll(() => tmp.cleanup());
  conversionContract('sqlite file', () => `sqlite:${join(tmp.dir, 'c.sqlite')}`);
});

describePostgres('ReplaceConcatWithParts on PostgreSQL', () => {
  let scratch: ScratchPostgres;
  beforeAll(async () => {
    scratch = await createScratchPostgres('concat_parts');
  });
  afterAll(async () => scratch?.drop());
  conversionContract('postgres', () => scratch.url);
});
