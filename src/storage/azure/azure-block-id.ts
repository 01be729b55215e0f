import { createHash } from 'node:crypto';

/** Most blocks one block blob may commit. */
export const AZURE_MAX_BLOCKS = 50_000;

/**
 * Per-upload tag mixed into block ids: two uploads staging to the same blob name never share an id, so one
 * cannot overwrite the other's bytes (the offset alone would collide).
 */
export function uploadTag(uploadId: string): string {
  return createHash('sha256').update(uploadId).digest('hex').slice(0, 16);
}

/**
 * Block id of the block starting at `offset`: fixed width (Azure requires every id of a blob to have the same
 * length), derived from the offset so a retried chunk restages the same ids instead of adding blocks.
 */
export function blockIdFor(tag: string, offset: number): string {
  return Buffer.from(`${tag}-${offset.toString().padStart(16, '0')}`, 'utf8').toString('base64');
}
