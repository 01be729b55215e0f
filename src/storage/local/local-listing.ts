import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RESERVED_SEGMENT, validateBlobPrefix } from '../blob-path';
import type { BlobStat } from '../common/require-info';
import { decodeListCursor, encodeListCursor, listLimit } from '../storage-helpers';
import type { BlobInfo, ListOptions, ListPage } from '../storage-provider';
import { errnoOf, isMissing } from './local-fs-errors';
import type { LocalRoot } from './local-root';

/**
 * `list` of the local provider: the files under the prefix in full-path order, the cursor being the last path
 * of the page; the reserved area and symlinks are left out. Each item comes from `blobs.stat`.
 */
export async function listFiles(
  root: LocalRoot,
  blobs: BlobStat,
  prefix: string,
  options: ListOptions,
): Promise<ListPage> {
  const cleanPrefix = validateBlobPrefix(prefix);
  const limit = listLimit(options.limit);
  const after = decodeListCursor(options.cursor);
  const realRoot = await root.real();
  // Walk only the deepest directory the prefix implies, then filter and sort full paths: sorting per
  // directory would not give the lexicographic order of full paths that the cursor relies on.
  const lastSlash = cleanPrefix.lastIndexOf('/');
  const baseDir = lastSlash >= 0 ? cleanPrefix.slice(0, lastSlash) : '';
  const paths: string[] = [];
  await walk(join(realRoot, baseDir), baseDir, paths);
  const selected = paths
    .filter((p) => p.startsWith(cleanPrefix) && (after === undefined || p > after))
    .sort()
    .slice(0, limit + 1);
  const page = selected.slice(0, limit);
  const items: BlobInfo[] = [];
  for (const p of page) {
    const info = await blobs.stat(p);
    if (info) items.push(info);
  }
  return { items, nextCursor: selected.length > limit ? encodeListCursor(page[page.length - 1]) : null };
}

async function walk(dir: string, relDir: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error) || errnoOf(error) === 'ENOTDIR') return;
    throw error;
  }
  for (const entry of entries) {
    if (relDir === '' && entry.name === RESERVED_SEGMENT) continue;
    const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
    // Symlinks are not followed while listing: a link could point outside the root.
    if (entry.isDirectory()) await walk(join(dir, entry.name), rel, out);
    else if (entry.isFile()) out.push(rel);
  }
}
