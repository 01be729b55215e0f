import { Controller, Module, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { INestApplication } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValiBlobModule } from '../../src/vali-blob.module';
import { OFFSET_STREAM, TUS } from './tus-http';

/** An application route outside the ValiBlob mounts. */
@Controller('other')
class OtherController {
  @Post()
  echo(@Req() req: { body?: unknown }): { body: unknown } {
    return { body: req.body ?? null };
  }
}

/**
 * The pass-through parsers the module registers on Fastify: upload bodies (tus PATCH, REST chunk PUT, with the
 * octet types or no content type at all) reach the handlers as streams, while the application's own routes keep
 * Fastify's behaviour (415 for types it cannot parse, JSON parsed as before).
 */
describe('Fastify pass-through body parsers', () => {
  let app: INestApplication;
  let origin: string;
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'valiblob-fastify-'));
    @Module({
      imports: [ValiBlobModule.forRoot({ providers: { local: { root, fsync: false } }, cleanup: { enabled: false } })],
      controllers: [OtherController],
    })
    class TestModule {}
    app = await NestFactory.create(TestModule, new FastifyAdapter(), { logger: ['error'] });
    // listen() right away: the parsers are registered during init, before the first route is served.
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address();
    origin = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await app.close();
    await rm(root, { recursive: true, force: true });
  });

  it('REST chunk PUT works with application/octet-stream and with no content type', async () => {
    const created = await fetch(`${origin}/uploads`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ totalSize: 6 }),
    });
    expect(created.status).toBe(201);
    const { uploadId } = (await created.json()) as { uploadId: string };
    const first = await fetch(`${origin}/uploads/${uploadId}/chunks/0`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Buffer.from('abc'),
    });
    expect(first.status).toBe(200);
    const second = await fetch(`${origin}/uploads/${uploadId}/chunks/3`, { method: 'PUT', body: Buffer.from('def') });
    expect(second.status).toBe(200);
    expect(((await second.json()) as { uploadedBytes: number }).uploadedBytes).toBe(6);
  });

  it('tus PATCH with application/offset+octet-stream reaches the handler', async () => {
    const created = await fetch(`${origin}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Length': '3' } });
    const url = new URL(created.headers.get('location')!, origin).toString();
    const res = await fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': OFFSET_STREAM },
      body: Buffer.from('xyz'),
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('upload-offset')).toBe('3');
  });

  it("other routes keep Fastify's behaviour: 415 for octet-stream or unknown types, JSON still parsed", async () => {
    for (const type of ['application/octet-stream', OFFSET_STREAM, 'application/x-unknown']) {
      const res = await fetch(`${origin}/other`, {
        method: 'POST',
        headers: { 'Content-Type': type },
        body: Buffer.from('abc'),
      });
      expect([type, res.status]).toEqual([type, 415]);
    }
    const noType = await fetch(`${origin}/other`, { method: 'POST', body: Buffer.from('abc') });
    expect(noType.status).toBe(415);
    const json = await fetch(`${origin}/other`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"a":1}',
    });
    expect(await json.json()).toEqual({ body: { a: 1 } });
  });
});
