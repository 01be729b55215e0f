// Migrations and entities of @vali-blob/nestjs for an app's own DataSource:
//   new DataSource({ ..., entities: [...VALIBLOB_ENTITIES], migrations: [...VALIBLOB_MIGRATIONS] })
import type { MigrationInterface } from 'typeorm';
import { UploadLockEntity } from '../src/locking/sql/upload-lock.entity';
import { QuotaEntryEntity } from '../src/policy/quota/quota-entry.entity';
import { UploadSessionEntity } from '../src/sessions/typeorm/upload-session.entity';
import { CreateValiBlobTables1763600000000 } from './1763600000000-CreateValiBlobTables';
import { AddUploadConflictPolicy1764500000000 } from './1764500000000-AddUploadConflictPolicy';
import { ReplaceConcatWithParts1764900000000 } from './1764900000000-ReplaceConcatWithParts';
import { CreateQuotaEntries1765100000000 } from './1765100000000-CreateQuotaEntries';
import { AddSessionPartition1765200000000 } from './1765200000000-AddSessionPartition';

export {
  AddSessionPartition1765200000000,
  AddUploadConflictPolicy1764500000000,
  CreateQuotaEntries1765100000000,
  CreateValiBlobTables1763600000000,
  ReplaceConcatWithParts1764900000000,
};

/** Migration classes in order; list them in your DataSource's `migrations`. */
export const VALIBLOB_MIGRATIONS: Array<new () => MigrationInterface> = [
  CreateValiBlobTables1763600000000,
  AddUploadConflictPolicy1764500000000,
  ReplaceConcatWithParts1764900000000,
  CreateQuotaEntries1765100000000,
  AddSessionPartition1765200000000,
];

/**
 * Entities of the TypeORM session store, the SQL upload locker and the TypeORM quota store; list them in your
 * DataSource's `entities`.
 */
export const VALIBLOB_ENTITIES: Array<typeof UploadSessionEntity | typeof UploadLockEntity | typeof QuotaEntryEntity> =
  [UploadSessionEntity, UploadLockEntity, QuotaEntryEntity];
