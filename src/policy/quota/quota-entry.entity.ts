import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumberTransformer } from '../../sessions/typeorm/column.transformers';

/** Table of the TypeORM quota store. */
export const QUOTA_ENTRIES_TABLE = 'valiblob_quota_entries';

/**
 * One row per upload counted against a quota (`TypeOrmQuotaStore`): a reservation while the upload is unfinished,
 * usage of its blob at `path` once committed. Column types mean the same on SQLite and PostgreSQL (`bigint` +
 * transformer, as in `UploadSessionEntity`); constraint and index names are explicit so the migration
 * `CreateQuotaEntries1765100000000` creates exactly this schema on every driver.
 * @publicApi
 */
@Entity({ name: QUOTA_ENTRIES_TABLE })
@Index('IDX_valiblob_quota_entries_quota_key', ['quotaKey'])
export class QuotaEntryEntity {
  /** The upload this entry belongs to. */
  @PrimaryColumn({
    name: 'upload_id',
    type: 'varchar',
    length: 128,
    primaryKeyConstraintName: 'PK_valiblob_quota_entries',
  })
  uploadId!: string;

  /** Quota key (the owner id by default, `*` for anonymous uploads). */
  @Column({ name: 'quota_key', type: 'varchar', length: 255 })
  quotaKey!: string;

  /** Blob path once committed; `null` while only reserved. */
  @Column({ name: 'path', type: 'varchar', length: 1024, nullable: true })
  path!: string | null;

  /** Reserved bytes, or the blob's final size once committed. */
  @Column({ name: 'bytes', type: 'bigint', transformer: bigintNumberTransformer })
  bytes!: number;

  /** `false`: a reservation of an unfinished upload; `true`: usage of a stored blob. */
  @Column({ name: 'committed', type: 'boolean' })
  committed!: boolean;

  /** Epoch ms when the entry was first written. */
  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumberTransformer })
  createdAt!: number;
}
