import { VALIBLOB_METRICS as M, VALIBLOB_SPANS as S } from '../../src/telemetry/telemetry.names';
import { httpRequest } from '../support/http-client';
import { startTusApp, TusTestApp } from '../tus/tus-app';
import { installTestSdk, TestSdk } from './otel-test-sdk';

const TUS = { 'Tus-Resumable': '1.0.0' };
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const traceparent = `00-${TRACE_ID}-${PARENT}-01`;

/** The same trace-context pickup on Fastify, whose routes hijack the reply and work on the raw request. */
describe('telemetry on Fastify: traceparent on tus and REST requests', () => {
  let t: TusTestApp;
  let sdk: TestSdk;

  beforeAll(async () => {
    sdk = installTestSdk();
    t = await startTusApp('fastify', {}, { tus: { path: 'files' }, rest: { path: 'uploads' } });
  });

  afterAll(async () => {
    await t?.close();
    await sdk?.uninstall();
  });

  it('puts tus PATCH and REST PUT spans in the caller trace, with their store and provider calls inside', async () => {
    const created = await httpRequest(t.endpoint, {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': 4, traceparent },
    });
    const tusId = String(created.headers.location).split('/').pop()!;
    const patched = await httpRequest(`${t.endpoint}/${tusId}`, {
      method: 'PATCH',
      headers: { ...TUS, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': 0, traceparent },
      body: Buffer.from('tus!'),
    });
    expect(patched.status).toBe(204);
    const json = { 'Content-Type': 'application/json', traceparent };
    const started = await httpRequest(`${t.origin}/uploads`, {
      method: 'POST',
      headers: json,
      body: '{"totalSize":3}',
    });
    const restId = started.json.uploadId;
    const put = await httpRequest(`${t.origin}/uploads/${restId}/chunks/0`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream', traceparent },
      body: Buffer.from('abc'),
    });
    expect(put.status).toBe(200);

    const spans = sdk.spans.getFinishedSpans();
    for (const [name, id] of [
      [S.start, tusId],
      [S.chunk, tusId],
      [S.start, restId],
      [S.chunk, restId],
    ]) {
      const span = spans.find((s) => s.name === name && s.attributes['valiblob.upload.id'] === id);
      expect([name, span?.spanContext().traceId, span?.parentSpanContext?.spanId]).toEqual([name, TRACE_ID, PARENT]);
      const children = spans.filter((s) => s.parentSpanContext?.spanId === span!.spanContext().spanId);
      expect(children.some((s) => s.name.startsWith(`${S.store} `))).toBe(true);
      expect(children.some((s) => s.name.startsWith(`${S.provider} `))).toBe(true);
    }

    const collected = await sdk.collect();
    expect(collected.sum(M.receivedBytes, { transport: 'tus' })).toBe(4);
    expect(collected.sum(M.receivedBytes, { transport: 'rest' })).toBe(3);
    expect(collected.sum(M.chunksInFlight)).toBe(0);
    expect(collected.sum(M.uploadsCompleted, { transport: 'tus' })).toBe(1);
  });
});
