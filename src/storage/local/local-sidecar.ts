import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MAX_SEGMENT_BYTES } from '../blob-path';

/** Content type and user metadata of a blob on local disk (the file itself holds only the bytes). */
export interface Sidecar {
  contentType: string | null;
  metadata: Record<string, string>;
}

const EMPTY: Sidecar = { contentType: null, metadata: {} };

/**
 * Sidecar files of the local provider, under `<root>/.valiblob/meta/`.
 *
 * Each lives at `<2 hex>/<sha256 of the path>.json`: a fixed-length name, so a sidecar never adds bytes to a
 * user's segment (a 255-byte name stays storable) and two paths can never share or block one sidecar. Older
 * versions mirrored the path (`meta/<path>.json`), where `x` and `x.json/y` collided; that location is still
 * read as a fallback and removed whenever the blob's metadata is rewritten or deleted.
 */
export class LocalSidecars {
  constructor(private readonly metaDir: () => Promise<string>) {}

  /** The sidecar of `path`, or empty metadata when there is none (or it is unreadable). */
  async read(path: string): Promise<Sidecar> {
    const current = await readJson(await this.fileOf(path));
    if (current) return current;
    const legacy = await this.legacyFileOf(path);
    return (legacy && (await readJson(legacy))) || { ...EMPTY, metadata: {} };
  }

  /** Write (or, for empty metadata, remove) the sidecar of `path`; always drops the legacy copy. */
  async write(path: string, sidecar: Sidecar): Promise<void> {
    const file = await this.fileOf(path);
    await this.removeLegacy(path);
    if (sidecar.contentType === null && Object.keys(sidecar.metadata).length === 0) {
      await rm(file, { force: true });
      return;
    }
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(sidecar));
  }

  /** Remove every sidecar of `path` (current and legacy location). */
  async remove(path: string): Promise<void> {
    await rm(await this.fileOf(path), { force: true });
    await this.removeLegacy(path);
  }

  /** Location of the sidecar of `path` (exposed for tests). */
  async fileOf(path: string): Promise<string> {
    const digest = createHash('sha256').update(path, 'utf8').digest('hex');
    return join(await this.metaDir(), digest.slice(0, 2), `${digest}.json`);
  }

  private async legacyFileOf(path: string): Promise<string | null> {
    const last = path.slice(path.lastIndexOf('/') + 1);
    // The old scheme could not have stored a sidecar whose name would be over the limit.
    if (Buffer.byteLength(`${last}.json`, 'utf8') > MAX_SEGMENT_BYTES) return null;
    return join(await this.metaDir(), `${path}.json`);
  }

  private async removeLegacy(path: string): Promise<void> {
    const legacy = await this.legacyFileOf(path);
    // `force` hides ENOENT/ENOTDIR; a directory there belongs to other paths' legacy sidecars: leave it.
    if (legacy) await rm(legacy, { force: true }).catch(() => undefined);
  }
}

async function readJson(file: string): Promise<Sidecar | null> {
  try {
    const raw = JSON.parse(await readFile(file, 'utf8')) as Partial<Sidecar>;
    return { contentType: raw.contentType ?? null, metadata: raw.metadata ?? {} };
  } catch {
    return null;
  }
}
