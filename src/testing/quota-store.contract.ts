import { randomBytes } from 'node:crypto';
import { UploadQuotaStore } from '../policy/quota/upload-quota.store';

/** What a quota contract factory returns: a store, optionally a second instance on the same backend, and cleanup. */
export interface QuotaStoreFixture {
  store: UploadQuotaStore;
  /**
   * Another instance sharing `store`'s backend (its own connection: a second DataSource, a second Redis client),
   * for the cross-instance race. Defaults to `store` itself (a backend that cannot be shared, like memory).
   */
  peer?: UploadQuotaStore;
  /** Called after each test (close connections, drop data). */
  dispose?: () => Promise<void>;
}

/** A fresh random id, so suites sharing a database or a Redis never meet each other's entries. */
function id(label: string): string {
  return `${label}-${randomBytes(9).toString('base64url')}`;
}

/**
 * The contract every `UploadQuotaStore` must pass (the rules in its JSDoc). Call it inside a jest test file:
 *
 * ```ts
 * runQuotaStoreContract('redis', async () => ({ store: new RedisQuotaStore(a), peer: new RedisQuotaStore(b) }));
 * ```
 *
 * `createFixture` runs before each test. Keys and upload ids are random, so the store need not start empty.
 */
export function runQuotaStoreContract(name: string, createFixture: () => Promise<QuotaStoreFixture>): void {
  describe(`UploadQuotaStore contract: ${name}`, () => {
    let fixture: QuotaStoreFixture;
    let store: UploadQuotaStore;
    let key: string;

    beforeEach(async () => {
      fixture = await createFixture();
      store = fixture.store;
      key = id('owner');
    });

    afterEach(async () => {
      await fixture?.dispose?.();
    });

    const usage = async (k = key) => {
      const { usedBytes, reservedBytes } = await store.usage(k);
      return { used: usedBytes, reserved: reservedBytes };
    };

    it('reports zeros for a key without entries', async () => {
      expect(await store.usage(key)).toEqual({ key, usedBytes: 0, reservedBytes: 0 });
    });

    it('reserves within the limit, up to exactly the limit', async () => {
      expect(await store.reserve(key, id('u'), 60, 100)).toBe(true);
      expect(await store.reserve(key, id('u'), 40, 100)).toBe(true);
      expect(await usage()).toEqual({ used: 0, reserved: 100 });
    });

    it('refuses a reservation that would pass the limit and changes nothing', async () => {
      const first = id('u');
      expect(await store.reserve(key, first, 60, 100)).toBe(true);
      expect(await store.reserve(key, id('u'), 41, 100)).toBe(false);
      // Growing an existing reservation past the limit is refused too and leaves it as it was.
      expect(await store.reserve(key, first, 101, 100)).toBe(false);
      expect(await usage()).toEqual({ used: 0, reserved: 60 });
    });

    it('reserve is idempotent and never shrinks a reservation', async () => {
      const upload = id('u');
      expect(await store.reserve(key, upload, 40, 100)).toBe(true);
      expect(await store.reserve(key, upload, 40, 100)).toBe(true);
      expect(await store.reserve(key, upload, 10, 100)).toBe(true);
      expect(await usage()).toEqual({ used: 0, reserved: 40 });
      // A covered size is already reserved: true even under a limit lowered since.
      expect(await store.reserve(key, upload, 40, 0)).toBe(true);
      expect(await usage()).toEqual({ used: 0, reserved: 40 });
    });

    it("does not count the upload's own reservation twice when it grows", async () => {
      const upload = id('u');
      expect(await store.reserve(key, upload, 70, 100)).toBe(true);
      expect(await store.reserve(key, upload, 90, 100)).toBe(true);
      expect(await usage()).toEqual({ used: 0, reserved: 90 });
      const other = id('u');
      expect(await store.reserve(key, other, 10, 100)).toBe(true);
      expect(await store.reserve(key, other, 11, 100)).toBe(false);
      expect(await usage()).toEqual({ used: 0, reserved: 100 });
    });

    it('commit turns the reservation into usage of exactly the final bytes; repeating it changes nothing', async () => {
      const upload = id('u');
      await store.reserve(key, upload, 50, 100);
      await store.commit(key, upload, 'a/final.bin', 42);
      expect(await usage()).toEqual({ used: 42, reserved: 0 });
      await store.commit(key, upload, 'a/final.bin', 42);
      expect(await usage()).toEqual({ used: 42, reserved: 0 });
    });

    it('commit without a reservation creates the entry; usage counts against later reservations', async () => {
      await store.commit(key, id('u'), 'a/direct.bin', 80);
      expect(await usage()).toEqual({ used: 80, reserved: 0 });
      expect(await store.reserve(key, id('u'), 21, 100)).toBe(false);
      expect(await store.reserve(key, id('u'), 20, 100)).toBe(true);
      expect(await usage()).toEqual({ used: 80, reserved: 20 });
    });

    it('commit replaces the committed entry at the same key and path, and only that one', async () => {
      const otherKey = id('owner');
      await store.commit(key, id('u'), 'same.bin', 30);
      await store.commit(key, id('u'), 'kept.bin', 5);
      await store.commit(otherKey, id('u'), 'same.bin', 7);
      const replacing = id('u');
      await store.reserve(key, replacing, 60, 1000);
      await store.commit(key, replacing, 'same.bin', 50);
      expect(await usage()).toEqual({ used: 55, reserved: 0 });
      expect(await usage(otherKey)).toEqual({ used: 7, reserved: 0 });
      // The replaced blob is gone from the quota: forgetting the path now drops the new one only.
      await store.forgetBlob(key, 'same.bin');
      expect(await usage()).toEqual({ used: 5, reserved: 0 });
    });

    it('release drops an unfinished reservation; unknown ids and repeats are no-ops', async () => {
      const upload = id('u');
      await store.reserve(key, upload, 60, 100);
      await store.release(upload);
      await store.release(upload);
      await store.release(id('unknown'));
      expect(await usage()).toEqual({ used: 0, reserved: 0 });
      // The bytes are free again.
      expect(await store.reserve(key, id('u'), 100, 100)).toBe(true);
    });

    it('release after commit is a no-op; reserve after commit returns true and changes nothing', async () => {
      const upload = id('u');
      await store.reserve(key, upload, 60, 100);
      await store.commit(key, upload, 'done.bin', 60);
      await store.release(upload);
      expect(await usage()).toEqual({ used: 60, reserved: 0 });
      expect(await store.reserve(key, upload, 500, 100)).toBe(true);
      expect(await usage()).toEqual({ used: 60, reserved: 0 });
    });

    it('forgetBlob drops the usage at that path only; repeats are no-ops', async () => {
      const otherKey = id('owner');
      await store.commit(key, id('u'), 'gone.bin', 30);
      await store.commit(key, id('u'), 'stays.bin', 20);
      await store.commit(otherKey, id('u'), 'gone.bin', 9);
      const pending = id('u');
      await store.reserve(key, pending, 15, 100);
      await store.forgetBlob(key, 'gone.bin');
      await store.forgetBlob(key, 'gone.bin');
      await store.forgetBlob(key, 'never.bin');
      expect(await usage()).toEqual({ used: 20, reserved: 15 });
      expect(await usage(otherKey)).toEqual({ used: 9, reserved: 0 });
      await store.forgetBlob(key, 'stays.bin');
      await store.release(pending);
      expect(await store.usage(key)).toEqual({ key, usedBytes: 0, reservedBytes: 0 });
    });

    it('keeps sizes beyond 32 bits exact', async () => {
      const tib = 1024 ** 4;
      const upload = id('u');
      expect(await store.reserve(key, upload, 5 * tib, 10 * tib)).toBe(true);
      expect(await store.reserve(key, id('u'), 5 * tib + 1, 10 * tib)).toBe(false);
      await store.commit(key, upload, 'huge.bin', 5 * tib - 3);
      expect(await usage()).toEqual({ used: 5 * tib - 3, reserved: 0 });
    });

    it('refuses negative or fractional sizes before touching the backend', async () => {
      await expect(store.reserve(key, id('u'), -1, 100)).rejects.toThrow(RangeError);
      await expect(store.reserve(key, id('u'), 1.5, 100)).rejects.toThrow(RangeError);
      await expect(store.reserve(key, id('u'), 1, Number.NaN)).rejects.toThrow(RangeError);
      await expect(store.commit(key, id('u'), 'x.bin', -5)).rejects.toThrow(RangeError);
      expect(await usage()).toEqual({ used: 0, reserved: 0 });
    });

    it('race: 20 concurrent reserves of 10 bytes, limit 100, from two instances → exactly 10 win', async () => {
      const peer = fixture.peer ?? store;
      const uploads = Array.from({ length: 20 }, () => id('race'));
      const results = await Promise.all(
        uploads.map((upload, i) => (i % 2 === 0 ? store : peer).reserve(key, upload, 10, 100)),
      );
      expect(results.filter(Boolean)).toHaveLength(10);
      expect(await usage()).toEqual({ used: 0, reserved: 100 });
      expect(await peer.usage(key)).toEqual({ key, usedBytes: 0, reservedBytes: 100 });
    });
  });
}
