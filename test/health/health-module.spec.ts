import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, type HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySessionStore, ValiBlobModule } from '../../src';
import { ValiBlobHealthIndicator, ValiBlobHealthModule } from '../../src/health';
import { expiredSession } from '../cleanup/cleanup-fixture';

/**
 * Issue 13 "health without ceremony": an app imports `ValiBlobHealthModule` next to `ValiBlobModule` (not global,
 * sync or async) and gets `ValiBlobHealthIndicator` and `HealthCheckService` injected; `checkAll()` is the usual
 * three checks. Real HTTP on a real socket.
 */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly valiBlob: ValiBlobHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check(this.valiBlob.checkAll({ timeoutMs: 500 }));
  }

  @Get('custom')
  @HealthCheck()
  custom() {
    return this.health.check(
      this.valiBlob.checkAll({ maxExpired: 1, keys: { storage: 'disk', sessionStore: 'db', cleanup: 'sweep' } }),
    );
  }
}

type Registration = 'forRoot' | 'forRootAsync';

async function boot(
  root: string,
  store: MemorySessionStore,
  registration: Registration,
): Promise<{ app: INestApplication; origin: string }> {
  const options = { providers: { local: { root } }, sessionStore: store, cleanup: { enabled: false } };
  const valiBlob =
    registration === 'forRoot'
      ? ValiBlobModule.forRoot({ ...options, http: { tus: false, rest: false } })
      : ValiBlobModule.forRootAsync({ useFactory: () => options, http: { tus: false, rest: false } });
  // Imported into a sibling feature module: the health module cannot see ValiBlob's exports directly.
  @Module({ imports: [ValiBlobHealthModule], controllers: [HealthController] })
  class HealthFeatureModule {}
  @Module({ imports: [valiBlob, HealthFeatureModule] })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, origin: `http://127.0.0.1:${port}` };
}

async function getJson(url: string): Promise<{ status: number; body: HealthCheckResult }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as HealthCheckResult };
}

describe.each<Registration>(['forRoot', 'forRootAsync'])('ValiBlobHealthModule + checkAll() (%s)', (registration) => {
  let root: string;
  let app: INestApplication | undefined;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-health-module-'));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await rm(root, { recursive: true, force: true });
  });

  it('200 with storage, sessionStore and cleanup up', async () => {
    const booted = await boot(root, new MemorySessionStore(), registration);
    app = booted.app;
    const { status, body } = await getJson(`${booted.origin}/health`);
    expect(status).toBe(200);
    expect(body.details).toEqual({
      storage: { status: 'up', provider: 'local' },
      sessionStore: { status: 'up' },
      cleanup: { status: 'up', expired: 0, maxExpired: 10_000 },
    });
  });

  it('uses the app’s real store: a failing store is 503; keys and the backlog limit are options', async () => {
    const store = new MemorySessionStore();
    const booted = await boot(root, store, registration);
    app = booted.app;
    await store.save(expiredSession());
    await store.save(expiredSession());
    const custom = await getJson(`${booted.origin}/health/custom`);
    expect(custom.status).toBe(503);
    expect(Object.keys(custom.body.details).sort()).toEqual(['db', 'disk', 'sweep']);
    expect(custom.body.details.sweep).toMatchObject({ status: 'down', reason: 'backlog', maxExpired: 1 });
    store.ping = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const down = await getJson(`${booted.origin}/health`);
    expect(down.status).toBe(503);
    expect(down.body.details.sessionStore).toMatchObject({ status: 'down', code: 'ECONNREFUSED' });
  });
});

describe('ValiBlobHealthModule without ValiBlobModule', () => {
  it('fails the bootstrap with a message that says what to import', async () => {
    @Module({ imports: [ValiBlobHealthModule], controllers: [HealthController] })
    class LonelyModule {}
    const lonely = await NestFactory.create(LonelyModule, { logger: false, abortOnError: false });
    try {
      await expect(lonely.init()).rejects.toThrow(/needs ValiBlobModule\.forRoot\(\) or forRootAsync\(\)/);
    } finally {
      await lonely.close().catch(() => undefined);
    }
  });
});
