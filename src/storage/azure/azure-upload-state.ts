import { StorageUnavailableError } from '../../errors/vali-blob.errors';
import type { ResumableState } from '../storage-provider';
import { legacyBlockKey } from './azure-block-id';

/** One staged block of the manifest: its start offset and its key (id = `blockIdOf(tag, key)`). */
export type BlockEntry = [start: number, key: string];

/**
 * Azure provider state of a resumable upload (persisted by the engine as `providerState`): the manifest of the
 * committed blocks, in offset order. Only this list is ever committed, so blocks staged by anyone else (a late
 * writer with an older state) are never part of the blob.
 */
export interface AzureUploadState extends ResumableState {
  v: 2;
  path: string;
  tag: string;
  /** The staged blocks, ascending by start offset. */
  blocks: BlockEntry[];
  /** Bytes staged so far (end of the last block). */
  size: number;
}

/** Parse a persisted state; states of the previous format (`v: 1`, offset-derived block keys) are converted. */
export function readState(raw: ResumableState): AzureUploadState {
  const state = raw as { v?: number; tag?: unknown; path?: unknown; blocks?: unknown; size?: unknown };
  const shaped = typeof state?.tag === 'string' && typeof state.path === 'string' && Array.isArray(state.blocks);
  if (shaped && state.v === 2) return state as AzureUploadState;
  if (shaped && state.v === 1) {
    // Uploads begun before block keys were random: their blocks keep their offset-derived ids.
    const blocks = (state.blocks as number[]).map((start): BlockEntry => [start, legacyBlockKey(start)]);
    return { ...(state as AzureUploadState), v: 2, blocks };
  }
  throw new StorageUnavailableError('Azure upload state is missing or from another provider');
}
