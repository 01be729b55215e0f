import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { StorageProvider } from '../storage/storage-provider';
import { contractCase, readAll, StorageContractContext } from './storage-contract.context';

/** The whole-blob cases of the storage contract: put/get, metadata, ranges, delete, paths, copy/move, listing. */
export function registerBlobCases(ctx: StorageContractContext): void {
  const check = contractCase(ctx);
  let provider: StorageProvider;
  let prefix: string;
  beforeEach(() => ({ provider, prefix } = ctx));

  const put = (path: string, data: Buffer, contentType?: string, metadata?: Record<string, string>) =>
    provider.put(path, Readable.from([data]), { contentType, metadata });

  check('puts and gets a blob with content type and metadata', async () => {
    const data = randomBytes(10_000);
    const info = await put(`${prefix}/a/b.bin`, data, 'image/png', { filename: 'b.bin', owner_id: 'u1' });
    expect(info).toMatchObject({ path: `${prefix}/a/b.bin`, size: data.length, contentType: 'image/png' });
    const read = await provider.get(`${prefix}/a/b.bin`);
    expect(await readAll(read.stream)).toEqual(data);
    expect(read.info.metadata).toEqual({ filename: 'b.bin', owner_id: 'u1' });
    const stat = await provider.stat(`${prefix}/a/b.bin`);
    expect(stat).toMatchObject({
      size: data.length,
      contentType: 'image/png',
      metadata: { filename: 'b.bin', owner_id: 'u1' },
    });
  });

  check('rejects metadata keys that would not round-trip on every provider', async () => {
    await expect(put(`${prefix}/m.bin`, Buffer.from('x'), undefined, { 'Bad-Key': 'v' })).rejects.toMatchObject({
      code: 'INVALID_METADATA',
    });
  });

  check('serves inclusive, open-ended and clamped ranges; rejects ranges past the end', async () => {
    const data = randomBytes(1000);
    await put(`${prefix}/r.bin`, data);
    expect(await readAll((await provider.get(`${prefix}/r.bin`, { start: 10, end: 19 })).stream)).toEqual(
      data.subarray(10, 20),
    );
    expect(await readAll((await provider.get(`${prefix}/r.bin`, { start: 990 })).stream)).toEqual(data.subarray(990));
    const clamped = await provider.get(`${prefix}/r.bin`, { start: 995, end: 5000 });
    expect(clamped.range).toEqual({ start: 995, end: 999 });
    expect(await readAll(clamped.stream)).toEqual(data.subarray(995));
    await expect(provider.get(`${prefix}/r.bin`, { start: 1000 })).rejects.toMatchObject({ code: 'INVALID_RANGE' });
  });

  check('reports missing blobs', async () => {
    expect(await provider.stat(`${prefix}/missing`)).toBeNull();
    expect(await provider.exists(`${prefix}/missing`)).toBe(false);
    await expect(provider.get(`${prefix}/missing`)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
  });

  check('deletes idempotently', async () => {
    await put(`${prefix}/d.bin`, Buffer.from('x'));
    expect(await provider.exists(`${prefix}/d.bin`)).toBe(true);
    expect(await provider.delete(`${prefix}/d.bin`)).toBe(true);
    expect(await provider.exists(`${prefix}/d.bin`)).toBe(false);
    expect(await provider.delete(`${prefix}/d.bin`)).toBe(false);
  });

  check('rejects invalid paths before touching the backend', async () => {
    for (const bad of ['../x', 'a/../../x', '/abs', 'a\\b', 'a\0b', 'a//b', '.valiblob/x', 'a/\u0001']) {
      await expect(put(bad, Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_PATH' });
      await expect(provider.get(bad)).rejects.toMatchObject({ code: 'INVALID_PATH' });
    }
  });

  check('copies and moves with metadata', async () => {
    const data = randomBytes(2048);
    await put(`${prefix}/src.bin`, data, 'text/plain', { k: 'v' });
    await provider.copy(`${prefix}/src.bin`, `${prefix}/copy.bin`);
    expect(await readAll((await provider.get(`${prefix}/copy.bin`)).stream)).toEqual(data);
    expect(await provider.stat(`${prefix}/copy.bin`)).toMatchObject({
      contentType: 'text/plain',
      metadata: { k: 'v' },
    });
    await provider.move(`${prefix}/copy.bin`, `${prefix}/moved/m.bin`);
    expect(await provider.exists(`${prefix}/copy.bin`)).toBe(false);
    expect(await provider.stat(`${prefix}/moved/m.bin`)).toMatchObject({ size: 2048, metadata: { k: 'v' } });
  });

  it(
    'lists with a real cursor: every object once, in order',
    async () => {
      const count = ctx.options.listObjects ?? 2500;
      const names = Array.from({ length: count }, (_, i) => `${prefix}/list/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < names.length; i += 50) {
        await Promise.all(names.slice(i, i + 50).map((n) => put(n, Buffer.from('x'))));
      }
      await put(`${prefix}/other.bin`, Buffer.from('y'));
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await provider.list(`${prefix}/list/`, { cursor, limit: 1000 });
        seen.push(...page.items.map((i) => i.path));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 100);
      expect(seen).toEqual(names);
      expect(pages).toBe(Math.ceil(count / 1000));
    },
    Math.max(ctx.timeout, 300_000),
  );
}
