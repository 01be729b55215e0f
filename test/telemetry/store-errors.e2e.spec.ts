import { SpanStatusCode } from '@opentelemetry/api';
import { StoreUnavailableError } from '../../src/errors/vali-blob.errors';
import { MemorySessionStore } from '../../src/sessions/memory/memory-session.store';
import { ResumableSessionStore } from '../../src/sessions/resumable-session-store';
import type { UploadSession } from '../../src/sessions/upload-session.model';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import { TypeOrmSessionStore } from '../../src/sessions/typeorm/typeorm-session.store';
import { storeKind } from '../../src/telemetry/telemetry.attributes';
import { VALIBLOB_METRICS as M, VALIBLOB_SPANS as S } from '../../src/telemetry/telemetry.names';
import { httpRequest } from '../support/http-client';
import { startTusApp, TusTestApp } from '../tus/tus-app';
import { installTestSdk, TestSdk } from './otel-test-sdk';

/** A store of the app's own that can be told to fail its reads (an outage, as the engine sees one). */
class FlakyStore extends MemorySessionStore {
  failing = false;

  override async get(uploadId: string): Promise<UploadSession | null> {
    if (this.failing) throw new Error('connection refused (test)');
    return super.get(uploadId);
  }
}

describe('store kind and store errors', () => {
  it('names the store kind from the class chain without importing optional peers', () => {
    expect(storeKind(new MemorySessionStore())).toBe('memory');
    expect(storeKind(new FlakyStore())).toBe('memory');
    expect(storeKind(Object.create(TypeOrmSessionStore.prototype))).toBe('typeorm');
    expect(storeKind(Object.create(RedisSessionStore.prototype))).toBe('redis');
    abstract class Base extends ResumableSessionStore {}
    expect(storeKind(Object.create(Base.prototype))).toBe('custom');
    expect(storeKind({})).toBe('custom');
  });

  describe('an unavailable store', () => {
    let t: TusTestApp;
    let sdk: TestSdk;
    const store = new FlakyStore();

    beforeAll(async () => {
      sdk = installTestSdk();
      t = await startTusApp('express', { sessionStore: store }, { rest: { path: 'uploads' }, tus: false });
    });

    afterAll(async () => {
      await t?.close();
      await sdk?.uninstall();
    });

    it('counts the failed store call by store and operation, and the 503 by code', async () => {
      const json = { 'Content-Type': 'application/json' };
      const started = await httpRequest(`${t.origin}/uploads`, {
        method: 'POST',
        headers: json,
        body: '{"totalSize":2}',
      });
      store.failing = true;
      const put = await httpRequest(`${t.origin}/uploads/${started.json.uploadId}/chunks/0`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: Buffer.from('ab'),
      });
      store.failing = false;
      expect([put.status, put.json.code]).toEqual([503, new StoreUnavailableError('x').code]);

      const collected = await sdk.collect();
      expect(collected.sum(M.storeErrors, { store: 'memory', operation: 'get' })).toBe(1);
      expect(collected.sum(M.storeErrors)).toBe(1);
      expect(collected.sum(M.uploadFailures, { code: 'STORE_UNAVAILABLE', transport: 'rest' })).toBe(1);
      expect(collected.sum(M.chunksInFlight)).toBe(0);
      const failed = sdk.spansNamed(`${S.store} get`).filter((span) => span.status.code === SpanStatusCode.ERROR);
      expect(failed).toHaveLength(1);
      expect(failed[0].attributes.code).toBe('STORE_UNAVAILABLE');
    });
  });
});
