import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { StaleUploadCleanupService } from '../../src/cleanup/stale-upload-cleanup.service';
import { UploadRejectedError } from '../../src/errors/vali-blob.errors';
import { ResumableSessionStore } from '../../src/sessions/resumable-session-store';
import { VALIBLOB_METRICS as M, VALIBLOB_SPANS as S } from '../../src/telemetry/telemetry.names';
import { ResumableUploadService } from '../../src/uploads/resumable-upload.service';
import { httpRequest, TestResponse } from '../support/http-client';
import { startTusApp, TusTestApp } from '../tus/tus-app';
import { CollectedMetrics, installTestSdk, TestSdk } from './otel-test-sdk';

const TUS = { 'Tus-Resumable': '1.0.0' };
const OCTETS = { ...TUS, 'Content-Type': 'application/offset+octet-stream' };
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const ALLOWED_METRIC_ATTRIBUTES = ['provider', 'transport', 'store', 'code', 'operation', 'outcome'];

const sha1 = (data: Buffer) => `sha1 ${createHash('sha1').update(data).digest('base64')}`;

/**
 * One known sequence of uploads through tus, REST and the in-process API on a real socket, with a real
 * OpenTelemetry SDK installed after the app started (the instruments must follow it), then every number read back.
 */
describe('OpenTelemetry metrics and spans of the engine', () => {
  let t: TusTestApp;
  let sdk: TestSdk;
  let service: ResumableUploadService;
  let collected: CollectedMetrics;
  const ids: Record<string, string> = {};

  const tusCreate = async (length: number, headers: Record<string, string> = {}) => {
    const res = await httpRequest(t.endpoint, {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': length, ...headers },
    });
    expect(res.status).toBe(201);
    return String(res.headers.location).split('/').pop()!;
  };
  const tusPatch = (id: string, offset: number, body: Buffer | Readable, headers: Record<string, string> = {}) =>
    httpRequest(`${t.endpoint}/${id}`, {
      method: 'PATCH',
      headers: { ...OCTETS, 'Upload-Offset': offset, ...headers },
      body,
    });
  const rest = (path: string, method: string, body?: unknown): Promise<TestResponse> =>
    httpRequest(`${t.origin}/uploads${path}`, {
      method,
      headers: { 'Content-Type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json' },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const inProcessUpload = async (data: Buffer) => {
    const session = await service.start({ totalSize: data.length });
    const body = Readable.from([data]);
    await service.uploadChunk({ uploadId: session.uploadId, offset: 0, body, contentLength: data.length });
    await service.complete(session.uploadId);
    return session.uploadId;
  };

  beforeAll(async () => {
    t = await startTusApp(
      'express',
      {
        lock: { waitMs: 150, requestRelease: false },
        policy: {
          hooks: {
            beforePublish: ({ session }) => {
              if (session.path.startsWith('reject/')) throw new UploadRejectedError('Not here', { status: 422 });
            },
          },
        },
      },
      { tus: { path: 'files' }, rest: { path: 'uploads' } },
    );
    service = t.app.get(ResumableUploadService);
    // Before any SDK exists: these go to the no-op meter, and must not be what the SDK reports later.
    await inProcessUpload(Buffer.from('ignored'));
    sdk = installTestSdk();

    // tus U1: 4 bytes, a 409 (wrong offset), a 460 (wrong checksum), then the last 6 bytes (auto-complete).
    ids.u1 = await tusCreate(10);
    expect((await tusPatch(ids.u1, 0, Buffer.from('abcd'))).status).toBe(204);
    expect((await tusPatch(ids.u1, 7, Buffer.from('hi'))).status).toBe(409);
    const tail = Buffer.from('efghij');
    expect((await tusPatch(ids.u1, 4, tail, { 'Upload-Checksum': sha1(Buffer.from('wrong!')) })).status).toBe(460);
    expect((await tusPatch(ids.u1, 4, tail, { 'Upload-Checksum': sha1(tail) })).status).toBe(204);

    // tus U2: a PATCH holds the lock mid-body; a second one waits 150 ms and gets 423.
    ids.u2 = await tusCreate(4);
    const waitsBefore = (await sdk.collect()).count(M.lockWaitDuration);
    const slow = new PassThrough();
    const first = tusPatch(ids.u2, 0, slow, { 'Content-Length': '4' });
    slow.write(Buffer.from('wx'));
    for (let i = 0; (await sdk.collect()).count(M.lockWaitDuration) === waitsBefore; i++) {
      if (i > 200) throw new Error('the first PATCH never took the lock');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await tusPatch(ids.u2, 0, Buffer.from('wxyz'))).status).toBe(423);
    slow.end(Buffer.from('yz'));
    expect((await first).status).toBe(204);

    // tus U3: terminated.
    ids.u3 = await tusCreate(5);
    expect((await httpRequest(`${t.endpoint}/${ids.u3}`, { method: 'DELETE', headers: TUS })).status).toBe(204);

    // tus U4: the PATCH carries a W3C traceparent.
    ids.u4 = await tusCreate(3);
    const traced = await tusPatch(ids.u4, 0, Buffer.from('abc'), {
      traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
    });
    expect(traced.status).toBe(204);

    // REST R1: start, one chunk, complete.
    ids.r1 = (await rest('', 'POST', { totalSize: 5 })).json.uploadId;
    expect((await rest(`/${ids.r1}/chunks/0`, 'PUT', Buffer.from('12345'))).status).toBe(200);
    expect((await rest(`/${ids.r1}/complete`, 'POST')).status).toBe(200);
    // REST R2: aborted.
    ids.r2 = (await rest('', 'POST', { totalSize: 3 })).json.uploadId;
    expect((await rest(`/${ids.r2}`, 'DELETE')).status).toBe(200);
    // REST R3: every byte stored, then the policy refuses it at publish.
    ids.r3 = (await rest('', 'POST', { totalSize: 3, path: 'reject/r3.bin' })).json.uploadId;
    expect((await rest(`/${ids.r3}/chunks/0`, 'PUT', Buffer.from('zzz'))).status).toBe(200);
    const refused = await rest(`/${ids.r3}/complete`, 'POST');
    expect([refused.status, refused.json.code]).toEqual([422, 'UPLOAD_REJECTED']);

    // In-process: one upload, and one session that expires and is swept by a cleanup run.
    ids.api = await inProcessUpload(Buffer.from('ok'));
    const stale = await service.start({ totalSize: 9 });
    const store = t.app.get(ResumableSessionStore);
    const record = await service.getSession(stale.uploadId, {}, { providerState: true });
    await store.update({ ...record, expiresAt: Date.now() - 1000 });
    const report = await t.app.get(StaleUploadCleanupService).runOnce();
    expect([report.expired, report.errors]).toEqual([1, 0]);

    collected = await sdk.collect();
  });

  afterAll(async () => {
    await sdk?.uninstall();
    await t?.close();
  });

  it('counts every upload transition once, by transport', () => {
    const by = (name: string, transport: string) => collected.sum(name, { transport, provider: 'local' });
    expect([by(M.uploadsStarted, 'tus'), by(M.uploadsStarted, 'rest'), by(M.uploadsStarted, 'api')]).toEqual([4, 3, 2]);
    expect([by(M.uploadsCompleted, 'tus'), by(M.uploadsCompleted, 'rest'), by(M.uploadsCompleted, 'api')]).toEqual([
      3, 1, 1,
    ]);
    expect([by(M.uploadsAborted, 'tus'), by(M.uploadsAborted, 'rest')]).toEqual([1, 1]);
    expect(collected.sum(M.uploadsAborted)).toBe(2);
    expect(by(M.uploadsRejected, 'rest')).toBe(1);
    expect(collected.sum(M.uploadsRejected)).toBe(1);
    expect(by(M.uploadsExpired, 'api')).toBe(1);
    expect(collected.sum(M.uploadsExpired)).toBe(1);
  });

  it('counts exactly the committed bytes, never the refused chunks', () => {
    expect(collected.sum(M.receivedBytes, { transport: 'tus' })).toBe(10 + 4 + 3);
    expect(collected.sum(M.receivedBytes, { transport: 'rest' })).toBe(5 + 3);
    expect(collected.sum(M.receivedBytes, { transport: 'api' })).toBe(2);
    expect(collected.metric(M.receivedBytes).descriptor.unit).toBe('By');
  });

  it('counts failures by stable code and transport, and the 423 as a lock conflict', () => {
    expect(collected.sum(M.uploadFailures, { code: 'OFFSET_MISMATCH', transport: 'tus' })).toBe(1);
    expect(collected.sum(M.uploadFailures, { code: 'CHECKSUM_MISMATCH', transport: 'tus' })).toBe(1);
    expect(collected.sum(M.uploadFailures, { code: 'UPLOAD_LOCKED', transport: 'tus' })).toBe(1);
    expect(collected.sum(M.uploadFailures, { code: 'UPLOAD_REJECTED', transport: 'rest' })).toBe(1);
    expect(collected.sum(M.uploadFailures)).toBe(4);
    expect(collected.sum(M.lockConflicts)).toBe(1);
    expect(collected.sum(M.storeErrors)).toBe(0);
  });

  it('times every chunk, complete, lock wait and store call, and ends with nothing in flight', () => {
    const chunks = (transport: string) => collected.count(M.chunkDuration, { transport });
    expect([chunks('tus'), chunks('rest'), chunks('api')]).toEqual([7, 2, 1]);
    const completes = (transport: string) => collected.count(M.completeDuration, { transport });
    expect([completes('tus'), completes('rest'), completes('api')]).toEqual([3, 2, 1]);
    expect(collected.metric(M.chunkDuration).descriptor.unit).toBe('s');
    // One sample per chunk that reached the lock: all ten (the 409 retry of an upload this instance just wrote is
    // checked under the lock; the 423 one waited; a try that found the lock busy records nothing). Explicit
    // completes and aborts wait once each.
    expect(collected.count(M.lockWaitDuration, { operation: 'chunk' })).toBe(10);
    expect(collected.count(M.lockWaitDuration, { operation: 'complete' })).toBe(3);
    expect(collected.count(M.lockWaitDuration, { operation: 'abort' })).toBe(2);
    expect(collected.count(M.storeDuration, { store: 'memory', operation: 'get' })).toBeGreaterThan(10);
    expect(collected.count(M.storeDuration, { store: 'memory', operation: 'advance' })).toBeGreaterThan(5);
    for (const attributes of collected.attributeSets(M.chunksInFlight)) {
      expect(collected.sum(M.chunksInFlight, attributes)).toBe(0);
    }
    expect(collected.attributeSets(M.chunksInFlight).length).toBeGreaterThan(0);
  });

  it('records the cleanup run and the backlog it left', () => {
    expect(collected.sum(M.cleanupRuns, { outcome: 'swept' })).toBe(1);
    expect(collected.sum(M.cleanupRuns)).toBe(1);
    expect(collected.has(M.cleanupBacklog)).toBe(true);
    expect(collected.sum(M.cleanupBacklog)).toBe(0);
  });

  it('labels metrics with low-cardinality attributes only (never ids or paths)', () => {
    const uploadIds = Object.values(ids);
    for (const name of Object.values(M)) {
      for (const attributes of collected.attributeSets(name)) {
        expect(Object.keys(attributes).filter((key) => !ALLOWED_METRIC_ATTRIBUTES.includes(key))).toEqual([]);
        for (const value of Object.values(attributes)) expect(uploadIds).not.toContain(value);
      }
    }
  });

  const childrenOf = (parent: ReadableSpan) =>
    sdk.spans.getFinishedSpans().filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);

  it('makes a chunk span per PATCH/PUT with the upload id, and store/provider spans as its children', () => {
    const chunks = sdk.spansNamed(S.chunk).filter((span) => span.attributes['valiblob.upload.id'] === ids.r1);
    expect(chunks).toHaveLength(1);
    const children = childrenOf(chunks[0]).map((span) => span.name);
    expect(children).toEqual(
      expect.arrayContaining([`${S.store} get`, `${S.provider} writeChunk`, `${S.store} advance`]),
    );
    expect(chunks[0].attributes['valiblob.chunk.bytes']).toBe(5);
    const start = sdk.spansNamed(S.start).find((span) => span.attributes['valiblob.upload.id'] === ids.r1);
    expect(childrenOf(start!).map((span) => span.name)).toEqual(
      expect.arrayContaining([`${S.provider} beginUpload`, `${S.store} save`]),
    );
    const abort = sdk.spansNamed(S.abort).find((span) => span.attributes['valiblob.upload.id'] === ids.r2);
    expect(childrenOf(abort!).map((span) => span.name)).toContain(`${S.provider} abortUpload`);
  });

  it('marks a failed chunk span with ERROR and the stable code', () => {
    const u1 = sdk.spansNamed(S.chunk).filter((span) => span.attributes['valiblob.upload.id'] === ids.u1);
    expect(u1.map((span) => span.attributes.code ?? 'ok')).toEqual([
      'ok',
      'OFFSET_MISMATCH',
      'CHECKSUM_MISMATCH',
      'ok',
    ]);
    expect(u1[1].status.code).toBe(SpanStatusCode.ERROR);
    expect(u1[1].events.map((event) => event.name)).toContain('exception');
  });

  it('joins the trace of an incoming traceparent, the auto-complete nested in the chunk', () => {
    const [chunk] = sdk.spansNamed(S.chunk).filter((span) => span.attributes['valiblob.upload.id'] === ids.u4);
    expect(chunk.spanContext().traceId).toBe(TRACE_ID);
    expect(chunk.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    const complete = childrenOf(chunk).find((span) => span.name === S.complete);
    expect(complete?.spanContext().traceId).toBe(TRACE_ID);
    expect(childrenOf(complete!).map((span) => span.name)).toContain(`${S.provider} completeUpload`);
    // Requests without one start their own traces.
    const other = sdk.spansNamed(S.chunk).find((span) => span.attributes['valiblob.upload.id'] === ids.r1);
    expect(other?.spanContext().traceId).not.toBe(TRACE_ID);
    expect(other?.parentSpanContext).toBeUndefined();
  });
});
