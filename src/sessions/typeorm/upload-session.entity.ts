import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumberTransformer, jsonTextTransformer } from './column.transformers';

/** Table of the TypeORM session store. */
export const UPLOAD_SESSIONS_TABLE = 'valiblob_upload_sessions';

/**
 * One row per upload session (`TypeOrmSessionStore`). Column types are chosen to mean the same on SQLite and
 * PostgreSQL: `bigint` + transformer for byte counts, epoch-ms timestamps and the epoch-µs fence (no
 * time-zone or precision surprises), `text` + JSON transformer for metadata and provider state (SQLite has no
 * JSON type). No column is called `offset` (a reserved word in both dialects). Constraint and index names are
 * explicit so the migrations in `migrations/` create exactly this schema on every driver.
 */
@Entity({ name: UPLOAD_SESSIONS_TABLE })
// Every store query names its partition, so the expiry index leads with it (findExpired, deleteExpired).
@Index('IDX_valiblob_upload_sessions_partition_expires_at', ['partition', 'expiresAt'])
@Index('IDX_valiblob_upload_sessions_status_expires_at', ['status', 'expiresAt'])
@Index('IDX_valiblob_upload_sessions_path', ['path'])
@Index('IDX_valiblob_upload_sessions_owner_id', ['ownerId'])
export class UploadSessionEntity {
  /** Random URL-safe id (ASCII). */
  @PrimaryColumn({
    name: 'upload_id',
    type: 'varchar',
    length: 128,
    primaryKeyConstraintName: 'PK_valiblob_upload_sessions',
  })
  uploadId!: string;

  /**
   * Partition of the store that wrote the row (`TypeOrmSessionStore`'s `partition` option); `''` is the
   * unpartitioned space, which rows from before the column joined. Not part of `UploadSession`.
   */
  @Column({ name: 'partition', type: 'varchar', length: 64, default: '' })
  partition!: string;

  /** Target blob path (validated, at most 1024 characters). */
  @Column({ name: 'path', type: 'varchar', length: 1024 })
  path!: string;

  @Column({ name: 'provider', type: 'varchar', length: 64 })
  provider!: string;

  /** `null` while the length is deferred. */
  @Column({ name: 'total_size', type: 'bigint', nullable: true, transformer: bigintNumberTransformer })
  totalSize!: number | null;

  @Column({ name: 'uploaded_bytes', type: 'bigint', transformer: bigintNumberTransformer })
  uploadedBytes!: number;

  @Column({ name: 'content_type', type: 'varchar', length: 255, nullable: true })
  contentType!: string | null;

  /** JSON object of string values. */
  @Column({ name: 'metadata', type: 'text', transformer: jsonTextTransformer })
  metadata!: Record<string, string>;

  @Column({ name: 'owner_id', type: 'varchar', length: 255, nullable: true })
  ownerId!: string | null;

  /** `UploadStatus` value, stored as its string (no DB enum: portable and extensible without a migration). */
  @Column({ name: 'status', type: 'varchar', length: 16 })
  status!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumberTransformer })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumberTransformer })
  updatedAt!: number;

  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintNumberTransformer })
  expiresAt!: number;

  @Column({ name: 'version', type: 'integer' })
  version!: number;

  /** Provider-private JSON (part/block manifests); never sent to clients. */
  @Column({ name: 'provider_state', type: 'text', nullable: true, transformer: jsonTextTransformer })
  providerState!: Record<string, unknown> | null;

  /** Whole-file sha256 (hex) once complete. */
  @Column({ name: 'checksum', type: 'varchar', length: 128, nullable: true })
  checksum!: string | null;

  /** A partial upload (a piece of a later concatenation); see `UploadSession.partial`. */
  @Column({ name: 'is_partial', type: 'boolean', default: false })
  partial!: boolean;

  /** Ids of the partial uploads this one was concatenated from, in order (JSON array); `null` otherwise. */
  @Column({ name: 'parts', type: 'text', nullable: true, transformer: jsonTextTransformer })
  parts!: string[] | null;

  /** Fencing token of the last lock holder that advanced the session (epoch-µs based, 64-bit). */
  @Column({ name: 'fence', type: 'bigint', transformer: bigintNumberTransformer })
  fence!: number;

  /**
   * Conflict policy at complete (`fail` | `overwrite` | `rename`). Nullable: rows created before the column
   * existed read back as `overwrite`, the rule they were created under (see `UploadSession.conflict`).
   */
  @Column({ name: 'conflict', type: 'varchar', length: 16, nullable: true })
  conflict!: string | null;
}
