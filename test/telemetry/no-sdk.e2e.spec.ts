import { context, metrics, trace } from '@opentelemetry/api';
import { Readable } from 'node:stream';
import { ResumableUploadService } from '../../src/uploads/resumable-upload.service';
import { UploadEvents } from '../../src/uploads/upload.events';
import { httpRequest } from '../support/http-client';
import { startTusApp, TusTestApp } from '../tus/tus-app';

const TUS = { 'Tus-Resumable': '1.0.0' };

/** Without an OpenTelemetry SDK in the app, the instrumentation is inert and uploads behave exactly as before. */
describe('telemetry without an SDK installed', () => {
  let t: TusTestApp;
  const recording: boolean[] = [];

  beforeAll(async () => {
    t = await startTusApp('express', {}, { tus: { path: 'files' }, rest: { path: 'uploads' } });
    t.app.get(UploadEvents).on('upload.completed', () => {
      recording.push(trace.getActiveSpan()?.isRecording() ?? false);
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('leaves the API globals unset: no-op meter and tracer', () => {
    expect(metrics.getMeterProvider().constructor.name).toBe('NoopMeterProvider');
    expect(trace.getTracer('x').startSpan('probe').isRecording()).toBe(false);
    expect(context.active()).toBe(context.active());
  });

  it('uploads through tus (with a traceparent), REST and in-process, with no recording span anywhere', async () => {
    const created = await httpRequest(t.endpoint, { method: 'POST', headers: { ...TUS, 'Upload-Length': 5 } });
    expect(created.status).toBe(201);
    const url = `${t.origin}${created.headers.location}`;
    const patched = await httpRequest(url, {
      method: 'PATCH',
      headers: {
        ...TUS,
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Offset': 0,
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      body: Buffer.from('hello'),
    });
    expect([patched.status, patched.headers['upload-offset']]).toEqual([204, '5']);
    const mismatch = await httpRequest(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': 1 },
      body: Buffer.from('x'),
    });
    expect(mismatch.status).toBe(409);

    const base = `${t.origin}/uploads`;
    const json = { 'Content-Type': 'application/json' };
    const started = await httpRequest(base, { method: 'POST', headers: json, body: JSON.stringify({ totalSize: 3 }) });
    const id = started.json.uploadId;
    const put = await httpRequest(`${base}/${id}/chunks/0`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Buffer.from('abc'),
    });
    expect(put.status).toBe(200);
    expect((await httpRequest(`${base}/${id}/complete`, { method: 'POST' })).json.session.status).toBe('Complete');

    const service = t.app.get(ResumableUploadService);
    const session = await service.start({ totalSize: 2 });
    await service.uploadChunk({ uploadId: session.uploadId, offset: 0, body: Readable.from([Buffer.from('ok')]) });
    expect((await service.complete(session.uploadId)).session.uploadedBytes).toBe(2);
    expect((await service.abort((await service.start({ totalSize: 1 })).uploadId)).status).toBe('Aborted');

    expect(recording).toEqual([false, false, false]);
  });
});
