import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** Folder every benchmark scratch directory goes into: the storage under test (`BENCH_DIR`, default os.tmpdir()). */
export const BENCH_DIR = process.env.BENCH_DIR ?? tmpdir();

/** `statfs` f_type of tmpfs (Linux TMPFS_MAGIC). */
const TMPFS_MAGIC = 0x01021994;

/** What kind of storage a folder is on: `tmpfs` (memory) or `disk` (anything else). */
export function storageKind(dir: string = BENCH_DIR): 'tmpfs' | 'disk' {
  return statfsSync(dir).type === TMPFS_MAGIC ? 'tmpfs' : 'disk';
}
