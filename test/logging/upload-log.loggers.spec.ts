import { ConsoleLogger, INestApplication, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoNestLogger, LoggerModule } from 'nestjs-pino';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uploadLog } from '../../src/common/upload-log';
import { ValiBlobModule } from '../../src/vali-blob.module';
import { xUserAuthorize } from '../http/rest-app';
import { httpRequest } from '../support/http-client';

/** What a logger wrote to stdout and stderr while `run` ran (Nest's ConsoleLogger writes there itself). */
function outputOf(run: () => void): string {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  const spies = [process.stdout, process.stderr].map((s) => jest.spyOn(s, 'write').mockImplementation(capture));
  try {
    run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written.join('');
}

/** Log through the library's own path (a `Logger('ValiBlob')` delegating to the app's logger). */
function logThrough(appLogger: ConsoleLogger, log: (logger: Logger) => void): string {
  Logger.overrideLogger(appLogger);
  try {
    return outputOf(() => log(new Logger('ValiBlob')));
  } finally {
    Logger.overrideLogger(['error']);
  }
}

describe("uploadLog entries in Nest's ConsoleLogger", () => {
  it('text mode: one readable line with the upload and owner, under the ValiBlob context', () => {
    const out = logThrough(new ConsoleLogger({ colors: false }), (logger) =>
      logger.warn(uploadLog('Lost the lock of the upload (expired)', { uploadId: 'u-1', ownerId: 'alice' })),
    );
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/WARN \[ValiBlob\] Lost the lock of the upload \(expired\) \(upload u-1, owner alice\)$/);
  });

  it('text mode: a failure keeps its message on the first line and its stack below; no owner, no owner part', () => {
    const out = logThrough(new ConsoleLogger({ colors: false }), (logger) =>
      logger.error(uploadLog('Storage provider call failed', { uploadId: 'u-2', ownerId: null }, new Error('EIO'))),
    );
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/ERROR \[ValiBlob\] Storage provider call failed: EIO \(upload u-2\)$/);
    expect(lines[1]).toBe('Error: EIO');
    expect(lines[2]).toMatch(/^\s+at /);
  });

  it('json mode: the message object carries msg, uploadId and ownerId as fields', () => {
    const out = logThrough(new ConsoleLogger({ json: true }), (logger) =>
      logger.log(uploadLog('Quota commit failed: timeout', { uploadId: 'u-3', ownerId: 'bob' })),
    );
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'log',
      context: 'ValiBlob',
      message: { msg: 'Quota commit failed: timeout', uploadId: 'u-3', ownerId: 'bob' },
    });
  });
});

/**
 * nestjs-pino's `Logger` as the app logger (what the runnable server wires for LOG_FORMAT=json): library lines
 * are JSON objects with `uploadId` and `ownerId` as real fields, driven through a real request.
 */
describe('uploadLog entries in nestjs-pino', () => {
  let app: INestApplication;
  let root: string;
  let base: string;
  const lines: string[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-log-pino-'));
    const stream = { write: (line: string) => void lines.push(line) };
    @Module({
      imports: [
        LoggerModule.forRoot({ pinoHttp: [{ level: 'debug', autoLogging: false }, stream] }),
        ValiBlobModule.forRoot({
          providers: { local: { root, fsync: false } },
          cleanup: { enabled: false },
          authorize: xUserAuthorize,
          policy: {
            hooks: {
              onFirstBytes: () => {
                throw new Error('hook bug');
              },
            },
          },
          http: { rest: { path: 'uploads' }, tus: false },
        }),
      ],
    })
    class PinoApp {}
    app = await NestFactory.create(PinoApp, { bufferLogs: true });
    app.useLogger(app.get(PinoNestLogger));
    await app.listen(0, '127.0.0.1');
    const address = (app.getHttpServer() as Server).address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await app?.close();
    await rm(root, { recursive: true, force: true });
    Logger.overrideLogger(['error']);
  });

  it('a failing policy hook: JSON lines with uploadId/ownerId fields, the readable msg and the error', async () => {
    const headers = { 'x-user': 'alice', 'Content-Type': 'application/json' };
    const created = await httpRequest(`${base}/uploads`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ totalSize: 4 }),
    });
    expect(created.status).toBe(201);
    const id = (created.json as { uploadId: string }).uploadId;
    const put = await httpRequest(`${base}/uploads/${id}/chunks/0`, {
      method: 'PUT',
      headers: { 'x-user': 'alice', 'Content-Type': 'application/octet-stream' },
      body: Buffer.from('abcd'),
    });
    expect(put.status).toBe(500);

    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const ours = records.filter((r) => r.uploadId === id);
    const hook = ours.find((r) => r.msg === 'Upload policy onFirstBytes failed: hook bug');
    expect(hook).toMatchObject({ level: 50, context: 'ValiBlob', uploadId: id, ownerId: 'alice' });
    expect((hook!.err as { message: string; stack: string }).stack).toMatch(/^Error: hook bug\n\s+at /);
    const answer = ours.find((r) => String(r.msg).startsWith('500 POLICY_FAILED'));
    expect(answer).toMatchObject({ context: 'ValiBlob', uploadId: id, ownerId: 'alice' });
    // The message stays plain text: the suffix is for text logs only.
    for (const record of ours) expect(String(record.msg)).not.toContain('(upload ');
  });
});
