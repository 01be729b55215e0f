import { QuotaUsage, UploadQuotaStore } from './upload-quota.store';
import { assertQuotaBytes } from './quota-arguments';

/** One upload's entry: reserved while unfinished, usage at `path` once committed. */
interface QuotaEntry {
  key: string;
  path: string | null;
  bytes: number;
  committed: boolean;
}

/**
 * In-process quota store, what `MemorySessionStore` offers. Every call completes synchronously inside one tick,
 * which is what makes `reserve` atomic here. Like the memory session store it is neither durable nor shared
 * between instances.
 * @publicApi
 */
export class MemoryQuotaStore extends UploadQuotaStore {
  private readonly entries = new Map<string, QuotaEntry>();

  async reserve(key: string, uploadId: string, bytes: number, limit: number): Promise<boolean> {
    assertQuotaBytes('bytes', bytes);
    assertQuotaBytes('limit', limit);
    const entry = this.entries.get(uploadId);
    if (entry?.committed) return true;
    // Only a reservation under this key is "the upload's own"; one under another key moves here if it fits.
    const own = entry?.key === key ? entry.bytes : 0;
    if (entry?.key === key && own >= bytes) return true;
    const { usedBytes, reservedBytes } = this.sum(key);
    if (usedBytes + reservedBytes - own + bytes > limit) return false;
    this.entries.set(uploadId, { key, path: null, bytes, committed: false });
    return true;
  }

  async commit(key: string, uploadId: string, path: string, bytes: number): Promise<void> {
    assertQuotaBytes('bytes', bytes);
    for (const [id, entry] of this.entries) {
      if (id !== uploadId && entry.committed && entry.key === key && entry.path === path) this.entries.delete(id);
    }
    this.entries.set(uploadId, { key, path, bytes, committed: true });
  }

  async release(uploadId: string): Promise<void> {
    if (this.entries.get(uploadId)?.committed === false) this.entries.delete(uploadId);
  }

  async forgetBlob(key: string, path: string): Promise<void> {
    for (const [id, entry] of this.entries) {
      if (entry.committed && entry.key === key && entry.path === path) this.entries.delete(id);
    }
  }

  async usage(key: string): Promise<QuotaUsage> {
    return { key, ...this.sum(key) };
  }

  /** Linear in the number of entries: fine for the single-process, test-sized workloads this store is for. */
  private sum(key: string): Omit<QuotaUsage, 'key'> {
    let usedBytes = 0;
    let reservedBytes = 0;
    for (const entry of this.entries.values()) {
      if (entry.key !== key) continue;
      if (entry.committed) usedBytes += entry.bytes;
      else reservedBytes += entry.bytes;
    }
    return { usedBytes, reservedBytes };
  }
}
