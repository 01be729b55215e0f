import { createHash, randomBytes } from 'node:crypto';

/**
 * Most blocks one block blob may commit.
 * @publicApi
 */
export const AZURE_MAX_BLOCKS = 50_000;

/**
 * Per-upload tag mixed into block ids: two uploads staging to the same blob name never share an id, so one
 * cannot overwrite the other's bytes.
 */
export function uploadTag(uploadId: string): string {
  return createHash('sha256').update(uploadId).digest('hex').slice(0, 16);
}

/**
 * A fresh 17-character block key (`~` + 16 hex digits, 64 random bits) for one staging of one block. Every write
 * stages under keys nobody else can produce, so a late writer holding a stale state (lease lost, paused) can
 * never replace a block another writer staged and committed to the manifest: its blocks stay unreferenced and
 * Azure drops them at the next commit (or after about a week).
 */
export function newBlockKey(): string {
  return `~${randomBytes(8).toString('hex')}`;
}

/**
 * Key of a block staged by the earlier offset-derived scheme (state `v: 1`), so uploads begun before an upgrade
 * still complete. Same length as `newBlockKey()` and never equal to one (`-` vs `~`).
 */
export function legacyBlockKey(offset: number): string {
  return `-${offset.toString().padStart(16, '0')}`;
}

/**
 * Block id of a key: fixed width (Azure requires every uncommitted block id of a blob to have the same length;
 * 33 bytes before base64, as ids have always been here, so staging next to an older upload still works).
 */
export function blockIdOf(tag: string, key: string): string {
  return Buffer.from(`${tag}${key}`, 'utf8').toString('base64');
}
