import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumberTransformer } from '../../sessions/typeorm/column.transformers';

/** Table of the SQL upload locker. */
export const UPLOAD_LOCKS_TABLE = 'valiblob_upload_locks';

/**
 * Lease row of `SqlUploadLocker`, one per upload that has ever been locked. The row outlives a release (only
 * `owner` is cleared) so `fence` keeps growing across holders, instances and restarts; `pruneReleased` removes
 * rows that have been free for a long time.
 */
@Entity({ name: UPLOAD_LOCKS_TABLE })
@Index('IDX_valiblob_upload_locks_expires_at', ['expiresAt'])
export class UploadLockEntity {
  @PrimaryColumn({
    name: 'upload_id',
    type: 'varchar',
    length: 128,
    primaryKeyConstraintName: 'PK_valiblob_upload_locks',
  })
  uploadId!: string;

  /** Random token of the current holder; `null` when free. Release and heartbeat compare it. */
  @Column({ name: 'owner', type: 'varchar', length: 64, nullable: true })
  owner!: string | null;

  /** Fencing token of the current (or last) holder; only ever increases. */
  @Column({ name: 'fence', type: 'bigint', transformer: bigintNumberTransformer })
  fence!: number;

  /** Epoch ms when the lease lapses unless the holder's heartbeat extends it (or when it was released). */
  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintNumberTransformer })
  expiresAt!: number;

  /** Set by a contender asking the holder to let go; the holder polls it. */
  @Column({ name: 'release_requested_at', type: 'bigint', nullable: true, transformer: bigintNumberTransformer })
  releaseRequestedAt!: number | null;
}
