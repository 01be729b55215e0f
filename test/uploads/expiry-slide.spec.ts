import { UploadStatus } from '../../src';
import type { ResumableSessionStore } from '../../src';
import { POLICY_BACKENDS } from '../policy/policy-backends';
import { httpRequest } from '../support/http-client';
import { startTusApp, TusTestApp } from '../tus/tus-app';

/** Session lifetime of these apps: short, so "past the first expiry" takes seconds, not hours. */
const LIFETIME_MS = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Issue 16: a status read (tus HEAD, REST GET) slides the expiry like a chunk does, on every store.
describe.each(POLICY_BACKENDS.map((backend) => [backend.name, backend] as const))(
  'status reads slide the session expiry (%s)',
  (_name, backend) => {
    let store: ResumableSessionStore;
    let close: () => Promise<void>;
    let t: TusTestApp;

    beforeAll(async () => {
      const opened = await backend.open();
      if (!opened) return;
      store = opened.store;
      close = opened.close;
      t = await startTusApp('express', { sessionStore: store, sessionExpiration: LIFETIME_MS, authorize: undefined });
    });
    afterAll(async () => {
      await t?.close();
      await close?.();
    });

    const tusCreate = async (length: number) => {
      const res = await httpRequest(t.endpoint, {
        method: 'POST',
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(length) },
      });
      expect(res.status).toBe(201);
      return String(res.headers.location).split('/').pop() as string;
    };
    const head = (id: string) =>
      httpRequest(`${t.endpoint}/${id}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    const patch = (id: string, offset: number, body: Buffer) =>
      httpRequest(`${t.endpoint}/${id}`, {
        method: 'PATCH',
        headers: {
          'Tus-Resumable': '1.0.0',
          'Upload-Offset': String(offset),
          'Content-Type': 'application/offset+octet-stream',
        },
        body,
      });
    const expiresAt = async (id: string) => (await store.get(id))!.expiresAt;

    it('a tus upload kept alive by HEADs alone outlives its first expiry and still takes chunks', async () => {
      if (!t) return;
      const id = await tusCreate(8);
      const first = await expiresAt(id);
      // Poll past twice the lifetime: without sliding, HEAD answers 410 once the first expiry passes.
      const until = Date.now() + 2 * LIFETIME_MS;
      while (Date.now() < until) {
        await sleep(LIFETIME_MS / 5);
        expect((await head(id)).status).toBe(200);
      }
      expect(await expiresAt(id)).toBeGreaterThan(first + LIFETIME_MS);
      expect((await patch(id, 0, Buffer.from('abcdefgh'))).status).toBe(204);
    });

    it('a REST status read slides the expiry and reports the new one', async () => {
      if (!t) return;
      const created = await httpRequest(`${t.origin}/uploads`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ path: `slide/${Date.now()}.bin`, totalSize: 4 }),
      });
      expect(created.status).toBe(201);
      const id = (created.json as { uploadId: string }).uploadId;
      const first = await expiresAt(id);
      await sleep(LIFETIME_MS / 2);
      const status = await httpRequest(`${t.origin}/uploads/${id}`);
      expect(status.status).toBe(200);
      const stored = await expiresAt(id);
      expect(stored).toBeGreaterThanOrEqual(first + LIFETIME_MS / 2 - 50);
      expect(new Date((status.json as { expiresAt: string }).expiresAt).getTime()).toBe(stored);
    });

    it('an expired upload is not revived by a read, and a finished one keeps its retention', async () => {
      if (!t) return;
      const expired = await tusCreate(4);
      const before = await expiresAt(expired);
      await sleep(LIFETIME_MS + 200);
      expect((await head(expired)).status).toBe(410);
      expect(await expiresAt(expired)).toBe(before);

      const done = await tusCreate(2);
      expect((await patch(done, 0, Buffer.from('ok'))).status).toBe(204);
      const finished = await store.get(done);
      expect(finished!.status).toBe(UploadStatus.Complete);
      await sleep(LIFETIME_MS / 3);
      expect((await head(done)).status).toBe(200);
      expect(await expiresAt(done)).toBe(finished!.expiresAt);
    });
  },
);
