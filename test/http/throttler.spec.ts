import { ExecutionContext, INestApplication, Injectable, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValiBlobModule } from '../../src/vali-blob.module';
import type { AuthorizeContext } from '../../src/vali-blob.options';
import { httpRequest, TestResponse } from '../support/http-client';
import { EACH_PLATFORM } from './rest-app';
import type { Platform } from '../tus/tus-app';

/** Creations each owner may make per window in these tests. */
const LIMIT = 3;

type Headers = Record<string, string | string[] | undefined>;

/** The owner a request acts for: the bearer token names it (the same rule the app's authorize hook applies). */
function ownerOf(headers: Headers): string | null {
  const match = /^Bearer (\w+)$/.exec(String(headers.authorization ?? ''));
  return match ? match[1] : null;
}

/** Only creations count (tus `POST /files`, REST `POST /uploads`): the chunks of an admitted upload never do. */
function isCreation(context: ExecutionContext): boolean {
  const req = context.switchToHttp().getRequest<{ method: string; url: string }>();
  return req.method === 'POST' && /\/(files|uploads)\/?$/.test(req.url.split('?')[0]);
}

/**
 * Rate limits per owner rather than per IP (many owners share a proxy's address; one owner may use many). Guards
 * run before the library's handler and its authorize hook, so the tracker reads the credential itself.
 */
@Injectable()
class OwnerThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const owner = ownerOf(req.headers as Headers);
    return owner ? `owner:${owner}` : `ip:${String(req.ip)}`;
  }
}

/**
 * The library's routes behind `@nestjs/throttler` with a per-owner `ThrottlerGuard` as `APP_GUARD`: owner A gets
 * 429 after `LIMIT` creations on tus and on REST while owner B still gets 201, and A's upload in progress still
 * takes its chunks. Express and Fastify.
 */
describe.each(EACH_PLATFORM)('@nestjs/throttler in front of tus and REST (%s)', (platform) => {
  let app: INestApplication;
  let root: string;
  let base: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-throttler-'));
    app = await startThrottledApp(platform, root);
    const address = (app.getHttpServer() as Server).address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await app?.close();
    await rm(root, { recursive: true, force: true });
  });

  const auth = (owner: string) => ({ Authorization: `Bearer ${owner}` });
  // Headers the guard sets (X-RateLimit-*, Retry-After) reach the client on both platforms (on Fastify
  // HttpExchange carries the reply's headers over to the raw response the library's handlers write).

  const tusCreate = (owner: string, size = 5) =>
    httpRequest(`${base}/files`, {
      method: 'POST',
      headers: { ...auth(owner), 'Tus-Resumable': '1.0.0', 'Upload-Length': size },
    });

  const restCreate = (owner: string, path: string) =>
    httpRequest(`${base}/uploads`, {
      method: 'POST',
      headers: { ...auth(owner), 'Content-Type': 'application/json' },
      body: JSON.stringify({ totalSize: 5, path }),
    });

  function expectThrottled(res: TestResponse): void {
    expect(res.status).toBe(429);
    // The guard says when to come back; clients that honour Retry-After wait instead of hammering.
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  }

  it('tus POST: alice gets 429 after the limit, bob still gets 201, alice still sends chunks', async () => {
    const created: TestResponse[] = [];
    for (let i = 0; i < LIMIT; i++) created.push(await tusCreate('alice'));
    expect(created.map((res) => res.status)).toEqual(Array(LIMIT).fill(201));
    expect(created[0].headers['x-ratelimit-limit']).toBe(String(LIMIT));
    expectThrottled(await tusCreate('alice'));
    expect((await tusCreate('bob')).status).toBe(201);

    // Only creations are limited: alice finishes an upload she started.
    const patch = await httpRequest(new URL(String(created[0].headers.location), base).href, {
      method: 'PATCH',
      headers: {
        ...auth('alice'),
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': 0,
        'Content-Type': 'application/offset+octet-stream',
      },
      body: Buffer.from('hello'),
    });
    expect(patch.status).toBe(204);
    expect(patch.headers['upload-offset']).toBe('5');
  });

  it('REST POST: alice gets 429 (library JSON body) after the limit, bob still gets 201', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await restCreate('alice', `a/${i}.bin`)).status).toBe(201);
    const refused = await restCreate('alice', 'a/over.bin');
    expectThrottled(refused);
    // ValiBlobExceptionFilter gives the guard's refusal the library's shape.
    expect(refused.json).toMatchObject({ statusCode: 429, code: expect.any(String), message: expect.any(String) });
    expect((await restCreate('bob', 'b/0.bin')).status).toBe(201);
  });
});

/** A Nest app with ValiBlob (tus + REST), ThrottlerModule and the per-owner guard, listening on port 0. */
async function startThrottledApp(platform: Platform, root: string): Promise<INestApplication> {
  @Module({
    imports: [
      // One window longer than the test: the counts never reset under it.
      ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: LIMIT }], skipIf: (ctx) => !isCreation(ctx) }),
      ValiBlobModule.forRoot({
        providers: { local: { root, fsync: false } },
        cleanup: { enabled: false },
        authorize: ({ request }: AuthorizeContext) => {
          const owner = ownerOf((request as { headers: Headers }).headers);
          return owner ? { ownerId: owner } : false;
        },
        http: { tus: { path: 'files' }, rest: { path: 'uploads' } },
      }),
    ],
    providers: [{ provide: APP_GUARD, useClass: OwnerThrottlerGuard }],
  })
  class ThrottledAppModule {}
  const app =
    platform === 'fastify'
      ? await NestFactory.create(ThrottledAppModule, new FastifyAdapter(), { logger: ['error'] })
      : await NestFactory.create(ThrottledAppModule, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  return app;
}
