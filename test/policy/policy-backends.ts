import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { MemorySessionStore, ResumableSessionStore } from '../../src';
import { RedisSessionStore } from '../../src/redis';
import { TypeOrmSessionStore } from '../../src/typeorm';
import { createScratchPostgres, migratedDataSource, scratchDir, ScratchPostgres } from '../typeorm/typeorm-test-db';
import { REDIS_URL, serviceAvailable, PG_URL } from '../support/services';

/** A session store backend the policy suites run on, with its teardown. */
export interface PolicyBackend {
  name: string;
  /** A fresh store (its quota store comes from `createQuotaStore()`), or `null` when the service is down locally. */
  open(): Promise<{ store: ResumableSessionStore; close(): Promise<void> } | null>;
}

/** Memory, SQLite and PostgreSQL (TypeORM), Redis: every store the policy must hold on. */
export const POLICY_BACKENDS: PolicyBackend[] = [
  { name: 'memory', open: async () => ({ store: new MemorySessionStore(), close: async () => undefined }) },
  {
    name: 'sqlite',
    open: async () => {
      const dir = scratchDir('policy');
      const dataSource: DataSource = await migratedDataSource(`sqlite:${dir.dir}/db.sqlite`);
      return {
        store: new TypeOrmSessionStore(dataSource),
        close: async () => {
          await dataSource.destroy();
          dir.cleanup();
        },
      };
    },
  },
  {
    name: 'postgres',
    open: async () => {
      if (!(await serviceAvailable('PostgreSQL', PG_URL))) return null;
      const db: ScratchPostgres = await createScratchPostgres('policy');
      const dataSource = await migratedDataSource(db.url);
      return {
        store: new TypeOrmSessionStore(dataSource),
        close: async () => {
          await dataSource.destroy();
          await db.drop();
        },
      };
    },
  },
  {
    name: 'redis',
    open: async () => {
      if (!(await serviceAvailable('Redis', REDIS_URL))) return null;
      const keyPrefix = `vbtest:policy:${randomBytes(4).toString('hex')}:session:`;
      const store = new RedisSessionStore({ connection: REDIS_URL, keyPrefix });
      return { store, close: async () => void (await (store as unknown as { close?: () => Promise<void> }).close?.()) };
    },
  },
];
