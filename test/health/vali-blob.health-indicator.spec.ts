import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySessionStore, ResumableSessionStore, ValiBlobModule } from '../../src';
import { ValiBlobHealthIndicator } from '../../src/health';
import { RedisSessionStore } from '../../src/redis';
import { REDIS_URL, serviceAvailable } from '../support/services';
import { expiredSession } from '../cleanup/cleanup-fixture';
import { startSwitchableProxy } from './switchable-proxy';

const TIMEOUT_MS = 400;

@Controller('health')
class ProbeController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly valiBlob: ValiBlobHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.valiBlob.checkStorage('storage', { timeoutMs: TIMEOUT_MS }),
      () => this.valiBlob.checkSessionStore('sessions', { timeoutMs: TIMEOUT_MS }),
      () => this.valiBlob.checkCleanupBacklog('cleanup', { maxExpired: 2, timeoutMs: TIMEOUT_MS }),
    ]);
  }
}

interface Booted {
  app: INestApplication;
  url: string;
  indicator: ValiBlobHealthIndicator;
}

async function boot(root: string, store: ResumableSessionStore): Promise<Booted> {
  @Module({
    imports: [
      TerminusModule.forRoot({ logger: false }),
      ValiBlobModule.forRoot({
        providers: { local: { root } },
        sessionStore: store,
        cleanup: { enabled: false },
        http: { tus: false, rest: false },
      }),
    ],
    controllers: [ProbeController],
    providers: [ValiBlobHealthIndicator],
  })
  class HealthTestModule {}
  const moduleRef = await Test.createTestingModule({ imports: [HealthTestModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}/health`, indicator: app.get(ValiBlobHealthIndicator) };
}

async function getHealth(url: string): Promise<{ status: number; body: HealthCheckResult; text: string; ms: number }> {
  const started = Date.now();
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text, ms: Date.now() - started };
}

/** Poll until 200 (a fresh client is still connecting; a restored one reconnects with backoff). */
async function healthyWithin(url: string, ms: number) {
  const deadline = Date.now() + ms;
  let last = await getHealth(url);
  while (last.status !== 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    last = await getHealth(url);
  }
  return last;
}

/** A store whose ping fails like a driver would: the message quotes the connection string. */
class LeakyFailingStore extends MemorySessionStore {
  override async ping(): Promise<void> {
    const cause = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432'), { code: 'ECONNREFUSED' });
    throw new Error('could not connect to postgres://app:s3cret-pw@db.internal:5432/prod', { cause });
  }
}

/** A store whose backend never answers. */
class HangingStore extends MemorySessionStore {
  override ping(): Promise<void> {
    return new Promise(() => undefined);
  }
  override findExpired(): Promise<never> {
    return new Promise(() => undefined);
  }
}

describe('ValiBlobHealthIndicator (Terminus, real HTTP)', () => {
  let root: string;
  let booted: Booted | undefined;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-health-'));
  });
  afterEach(async () => {
    await booted?.app.close();
    booted = undefined;
    await rm(root, { recursive: true, force: true });
  });

  it('200 with every check up', async () => {
    booted = await boot(root, new MemorySessionStore());
    const { status, body } = await getHealth(booted.url);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.details).toEqual({
      storage: { status: 'up', provider: 'local' },
      sessions: { status: 'up' },
      cleanup: { status: 'up', expired: 0, maxExpired: 2 },
    });
  });

  it('a driver error becomes down with a code and no secret from the message', async () => {
    booted = await boot(root, new LeakyFailingStore());
    const { status, body, text } = await getHealth(booted.url);
    expect(status).toBe(503);
    expect(body.details.sessions).toEqual({
      status: 'down',
      reason: 'unreachable',
      code: 'ECONNREFUSED',
      message: 'connection refused',
    });
    expect(body.details.storage.status).toBe('up');
    for (const secret of ['s3cret', 'db.internal', 'postgres://', '10.1.2.3']) expect(text).not.toContain(secret);
  });

  it('a hanging store is down by the timeout, not after it', async () => {
    booted = await boot(root, new HangingStore());
    const { status, body, ms } = await getHealth(booted.url);
    expect(status).toBe(503);
    expect(body.details.sessions).toMatchObject({ status: 'down', reason: 'timeout' });
    expect(body.details.cleanup).toMatchObject({ status: 'down', reason: 'timeout' });
    expect(ms).toBeLessThan(TIMEOUT_MS + 1000);
  });

  it('storage down (root gone) is 503; an unknown provider name is down, never thrown', async () => {
    booted = await boot(root, new MemorySessionStore());
    // The root turns into a plain file: nothing can be written under it any more.
    await rm(root, { recursive: true, force: true });
    await writeFile(root, 'not a directory');
    const { status, body } = await getHealth(booted.url);
    expect(status).toBe(503);
    expect(body.details.storage).toMatchObject({ status: 'down', reason: 'error', code: 'STORAGE_UNAVAILABLE' });
    await expect(booted.indicator.checkStorage('s', { provider: 'nope' })).resolves.toMatchObject({
      s: { status: 'down', code: 'UNKNOWN_PROVIDER' },
    });
  });

  it('checkCleanupBacklog is down once more than maxExpired sessions wait for cleanup', async () => {
    const store = new MemorySessionStore();
    booted = await boot(root, store);
    await store.save(expiredSession());
    await store.save(expiredSession());
    expect((await getHealth(booted.url)).body.details.cleanup).toEqual({ status: 'up', expired: 2, maxExpired: 2 });
    await store.save(expiredSession());
    const { status, body } = await getHealth(booted.url);
    expect(status).toBe(503);
    expect(body.details.cleanup).toMatchObject({ status: 'down', reason: 'backlog', maxExpired: 2 });
    await expect(booted.indicator.checkCleanupBacklog('c', { maxExpired: -1 })).resolves.toMatchObject({
      c: { status: 'down' },
    });
  });

  describe('with the real Redis store behind a proxy that goes down and comes back', () => {
    let ok = false;
    beforeAll(async () => {
      ok = await serviceAvailable('Redis', REDIS_URL);
    });

    it('up → down within the timeout → up again', async () => {
      if (!ok) return;
      const target = new URL(REDIS_URL);
      const proxy = await startSwitchableProxy(target.hostname, Number(target.port || 6379));
      const store = new RedisSessionStore({
        connection: `redis://127.0.0.1:${proxy.port}`,
        keyPrefix: `vbhealth${Date.now()}:`,
        timeoutMs: 300,
      });
      try {
        booted = await boot(root, store);
        expect((await healthyWithin(booted.url, 5000)).status).toBe(200);
        await proxy.down();
        const down = await getHealth(booted.url);
        expect(down.status).toBe(503);
        expect(down.body.details.sessions.status).toBe('down');
        expect(down.ms).toBeLessThan(TIMEOUT_MS + 1000);
        expect(down.text).not.toContain(String(proxy.port));
        await proxy.up();
        expect((await healthyWithin(booted.url, 10_000)).status).toBe(200);
      } finally {
        await booted?.app.close();
        booted = undefined;
        await store.close();
        await proxy.close();
      }
    });
  });
});
