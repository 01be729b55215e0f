import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { INestApplication } from '@nestjs/common';
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValiBlobModule } from '../../src';
import { CapturingLogger } from '../support/capturing-logger';
import { PLATFORMS, Platform } from '../tus/tus-app';
import { testBytes, TUS } from '../tus/tus-http';

/**
 * Issue 13 "no 300-second kill": an app that only followed the README (no `requestTimeout` of its own) must not
 * have a slow chunk cut by Node's `requestTimeout`. Node's default is 300 s; to keep the test short the server
 * is created with a 1.5 s `requestTimeout` (as if that were the default) and a 100 ms check interval, and the
 * chunk takes ~3 s while its bytes keep flowing. With `http.keepRequestTimeout: true` the same chunk is cut,
 * which proves the lowered timeout really bites.
 */
const LOWERED_TIMEOUT_MS = 1500;
const CHUNK = 48 * 1024;
const PIECES = 12;
const PIECE_DELAY_MS = 250;

interface Started {
  app: INestApplication;
  origin: string;
  root: string;
  logger: CapturingLogger;
  server: http.Server;
}

async function start(platform: Platform, keepRequestTimeout: boolean): Promise<Started> {
  const root = await mkdtemp(join(tmpdir(), 'valiblob-reqtimeout-'));
  @Module({
    imports: [
      ValiBlobModule.forRoot({
        providers: { local: { root, fsync: false } },
        cleanup: { enabled: false },
        http: { tus: { path: 'files' }, rest: { path: 'uploads' }, keepRequestTimeout },
      }),
    ],
  })
  class ReadmeModule {}
  const logger = new CapturingLogger();
  // Stand-in for Node's default: every server created while booting gets the lowered timeout and a fast check.
  const original = http.createServer;
  const spy = jest.spyOn(http, 'createServer').mockImplementation(((...args: unknown[]) => {
    const handler = args.find((arg) => typeof arg === 'function');
    const given = args.find((arg) => arg && typeof arg === 'object') as http.ServerOptions | undefined;
    return original(
      { ...given, requestTimeout: LOWERED_TIMEOUT_MS, connectionsCheckingInterval: 100 },
      handler as http.RequestListener,
    );
  }) as typeof http.createServer);
  try {
    const app =
      platform === 'fastify'
        ? await NestFactory.create(ReadmeModule, new FastifyAdapter({ requestTimeout: LOWERED_TIMEOUT_MS }), { logger })
        : await NestFactory.create(ReadmeModule, { logger });
    await app.listen(0, '127.0.0.1');
    const server = app.getHttpServer() as http.Server;
    const { port } = server.address() as { port: number };
    return { app, origin: `http://127.0.0.1:${port}`, root, logger, server };
  } finally {
    spy.mockRestore();
  }
}

/** PATCH `body` in PIECES pieces, PIECE_DELAY_MS apart (bytes keep flowing; the whole takes ~3 s). */
function slowPatch(url: string, body: Buffer): Promise<{ status: number; offset?: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'PATCH',
      agent: false,
      headers: {
        ...TUS,
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': String(body.length),
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, offset: res.headers['upload-offset'] as string | undefined }),
      );
    });
    req.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    const piece = body.length / PIECES;
    let sent = 0;
    const next = (): void => {
      if (req.destroyed) return;
      req.write(body.subarray(sent * piece, (sent + 1) * piece));
      sent += 1;
      if (sent < PIECES) setTimeout(next, PIECE_DELAY_MS);
      else req.end();
    };
    next();
  });
}

async function createUpload(origin: string, length: number): Promise<string> {
  const response = await fetch(`${origin}/files`, {
    method: 'POST',
    headers: {
      ...TUS,
      'Upload-Length': String(length),
      'Upload-Metadata': `filename ${Buffer.from('slow.bin').toString('base64')}`,
    },
  });
  expect(response.status).toBe(201);
  return new URL(response.headers.get('location')!, origin).href;
}

describe.each(PLATFORMS)('Node requestTimeout does not cut a long chunk (%s)', (platform) => {
  let started: Started | undefined;
  afterEach(async () => {
    await started?.app.close();
    if (started) await rm(started.root, { recursive: true, force: true });
    started = undefined;
  });

  it('a chunk that takes longer than requestTimeout completes; the change is logged once', async () => {
    started = await start(platform, false);
    expect(started.server.requestTimeout).toBe(0);
    const body = testBytes(CHUNK * PIECES);
    const url = await createUpload(started.origin, body.length);
    const began = Date.now();
    const result = await slowPatch(url, body);
    expect(Date.now() - began).toBeGreaterThan(LOWERED_TIMEOUT_MS * 1.5);
    expect(result).toEqual({ status: 204, offset: String(body.length) });
    const changed = started.logger.entries.filter((entry) => entry.text.includes('requestTimeout changed'));
    expect(changed).toHaveLength(1);
    expect(changed[0].text).toContain(`from ${LOWERED_TIMEOUT_MS} ms to 0`);
    const id = url.split('/').pop()!;
    const head = await fetch(`${started.origin}/files/${id}`, { method: 'HEAD', headers: TUS });
    expect(head.headers.get('upload-offset')).toBe(String(body.length));
    // The blob was published under its name: the bytes arrived whole.
    const stored = await readFile(join(started.root, 'tus', id, 'slow.bin'));
    expect(stored.equals(body)).toBe(true);
  }, 30_000);

  it('with http.keepRequestTimeout the app keeps its lowered limit, and the same chunk is cut', async () => {
    started = await start(platform, true);
    expect(started.server.requestTimeout).toBe(LOWERED_TIMEOUT_MS);
    expect(
      started.logger.entries.some((entry) => entry.level === 'warn' && entry.text.includes('keepRequestTimeout')),
    ).toBe(true);
    const body = testBytes(CHUNK * PIECES);
    const url = await createUpload(started.origin, body.length);
    const result = await slowPatch(url, body);
    // Node answers 408 and destroys the socket; depending on timing the client sees the 408 or a reset.
    if ('status' in result) expect(result.status).toBe(408);
    else expect(result.error).toMatch(/ECONNRESET|EPIPE|socket hang up/);
  }, 30_000);
});
