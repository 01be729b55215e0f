import { Global, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getStorageToken,
  InjectSessionStore,
  InjectStorage,
  InvalidValiBlobOptionsError,
  LocalStorageProvider,
  MemorySessionStore,
  MemoryStorageProvider,
  ResumableSessionStore,
  ResumableUploadService,
  StorageProvider,
  ValiBlobAlreadyRegisteredError,
  ValiBlobModule,
} from '../../src';

/** A custom store used to prove the useClass / useExisting / useFactory recipes. */
@Injectable()
class CustomStore extends MemorySessionStore {
  readonly custom = true;
}

@Injectable()
class NeedsStorage {
  constructor(
    @InjectStorage() readonly defaultStorage: StorageProvider,
    @InjectStorage('archive') readonly archive: StorageProvider,
    @InjectSessionStore() readonly store: ResumableSessionStore,
  ) {}
}

describe('ValiBlobModule', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vb-module-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('forRoot registers the default provider, named providers, the store and the engine', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { local: { root }, archive: { type: 'memory' } },
          defaultProvider: 'local',
        }),
      ],
      providers: [NeedsStorage],
    }).compile();
    const consumer = moduleRef.get(NeedsStorage);
    expect(consumer.defaultStorage).toBeInstanceOf(LocalStorageProvider);
    expect(consumer.defaultStorage.name).toBe('local');
    expect(consumer.archive).toBeInstanceOf(MemoryStorageProvider);
    expect(moduleRef.get(getStorageToken('archive'))).toBe(consumer.archive);
    expect(consumer.store).toBeInstanceOf(MemorySessionStore);
    expect(moduleRef.get(ResumableUploadService)).toBeDefined();
    await moduleRef.close();
  });

  it('forRootAsync resolves options from a factory with injected dependencies', async () => {
    @Module({ providers: [{ provide: 'ROOT', useValue: root }], exports: ['ROOT'] })
    class ConfigModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRootAsync({
          imports: [ConfigModule],
          inject: ['ROOT'],
          useFactory: async (dir: string) => ({
            providers: { main: { root: dir }, archive: { type: 'memory' as const } },
          }),
          // Named tokens are part of the module's composition: declared statically, next to the factory.
          storageNames: ['archive'],
        }),
      ],
      providers: [NeedsStorage],
    }).compile();
    const consumer = moduleRef.get(NeedsStorage);
    expect(consumer.defaultStorage.name).toBe('main');
    expect((consumer.defaultStorage as LocalStorageProvider).rootDirectory).toBe(root);
    expect(consumer.archive).toBeInstanceOf(MemoryStorageProvider);
    await moduleRef.close();
  });

  it('lists every option problem at once', async () => {
    const attempt = Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { local: { root: '' } },
          defaultProvider: 'missing',
          maxUploadSize: -1,
          sessionExpiration: 1.5,
          checksumAlgorithms: ['sha1', 'whirlpool' as never],
          cleanup: { cron: 'every day' },
        }),
      ],
    }).compile();
    const error = await attempt.catch((e) => e);
    expect(error).toBeInstanceOf(InvalidValiBlobOptionsError);
    const problems = (error as InvalidValiBlobOptionsError).problems.join('\n');
    for (const fragment of [
      'providers.local.root',
      'defaultProvider "missing"',
      'maxUploadSize',
      'sessionExpiration',
      'whirlpool',
      'cleanup.cron',
    ]) {
      expect(problems).toContain(fragment);
    }
    expect((error as InvalidValiBlobOptionsError).problems).toHaveLength(6);
  });

  it('fails clearly when registered twice in one application', async () => {
    @Module({ imports: [ValiBlobModule.forRoot({ providers: { m: { type: 'memory' } } })] })
    class FeatureA {}
    @Module({ imports: [ValiBlobModule.forRoot({ providers: { n: { type: 'memory' } } })] })
    class FeatureB {}
    const error = await Test.createTestingModule({ imports: [FeatureA, FeatureB] })
      .compile()
      .catch((e) => e);
    expect(error).toBeInstanceOf(ValiBlobAlreadyRegisteredError);
    expect(String(error.message)).toContain('registered more than once');
  });

  it('allows separate applications in one process', async () => {
    const make = () =>
      Test.createTestingModule({
        imports: [ValiBlobModule.forRoot({ providers: { m: { type: 'memory' } } })],
      }).compile();
    const [a, b] = await Promise.all([make(), make()]);
    expect(a.get(StorageProvider)).not.toBe(b.get(StorageProvider));
    await Promise.all([a.close(), b.close()]);
  });

  it.each([
    ['useClass', { useClass: CustomStore }],
    ['useFactory', { useFactory: () => new CustomStore() }],
  ])('accepts a custom session store via %s (forRoot)', async (_name, recipe) => {
    const moduleRef = await Test.createTestingModule({
      imports: [ValiBlobModule.forRoot({ providers: { m: { type: 'memory' } }, sessionStore: recipe as never })],
    }).compile();
    expect(moduleRef.get(ResumableSessionStore)).toBeInstanceOf(CustomStore);
    await moduleRef.close();
  });

  it('accepts a custom session store via useExisting (forRoot) and via an async factory with inject', async () => {
    @Global()
    @Module({ providers: [CustomStore, { provide: 'DEP', useValue: 42 }], exports: [CustomStore, 'DEP'] })
    class StoreModule {}
    const existing = await Test.createTestingModule({
      imports: [
        StoreModule,
        ValiBlobModule.forRoot({ providers: { m: { type: 'memory' } }, sessionStore: { useExisting: CustomStore } }),
      ],
    }).compile();
    expect(existing.get(ResumableSessionStore)).toBe(existing.get(CustomStore));
    await existing.close();

    let received: unknown;
    const factory = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRootAsync({
          imports: [StoreModule],
          inject: [CustomStore, 'DEP'],
          useFactory: (store: CustomStore, dep: number) => {
            received = dep;
            return { providers: { m: { type: 'memory' as const } }, sessionStore: store };
          },
        }),
      ],
    }).compile();
    expect(received).toBe(42);
    expect(factory.get(ResumableSessionStore)).toBe(factory.get(CustomStore, { strict: false }));
    await factory.close();
  });

  it('accepts a useClass recipe returned by an async factory', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRootAsync({
          useFactory: () => ({
            providers: { m: { type: 'memory' as const } },
            sessionStore: { useClass: CustomStore },
          }),
        }),
      ],
    }).compile();
    await moduleRef.init();
    // With forRootAsync the module builds the recipe with Nest's injector once the options are known.
    const store = moduleRef.get(ResumableSessionStore);
    expect(store).toBeInstanceOf(ResumableSessionStore);
    expect((store as CustomStore).custom).toBe(true);
    await moduleRef.close();
  });
});

describe('ValiBlobModule.forRootAsync with recipes whose dependencies resolve late', () => {
  it('defers useFactory/useExisting recipes until every provider exists, and forwards lifecycle hooks', async () => {
    const closed: string[] = [];
    class SlowStore extends MemorySessionStore {
      constructor(readonly dep: string) {
        super();
      }
      async onModuleDestroy(): Promise<void> {
        closed.push(this.dep);
      }
    }
    // An async provider in another module, like TypeORM's DataSource: it exists only after a delay.
    @Global()
    @Module({
      providers: [
        { provide: 'LATE', useFactory: async () => new Promise<string>((r) => setTimeout(() => r('late-value'), 100)) },
      ],
      exports: ['LATE'],
    })
    class LateModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        LateModule,
        ValiBlobModule.forRootAsync({
          useFactory: () => ({
            providers: { m: { type: 'memory' as const } },
            sessionStore: { useFactory: (dep: string) => new SlowStore(dep), inject: ['LATE'] },
          }),
        }),
      ],
    }).compile();
    await moduleRef.init();
    const store = moduleRef.get(ResumableSessionStore);
    expect(store).toBeInstanceOf(ResumableSessionStore);
    const uploads = moduleRef.get(ResumableUploadService);
    const session = await uploads.start({ totalSize: 3 });
    expect((await store.get(session.uploadId))?.uploadId).toBe(session.uploadId);
    await moduleRef.close();
    expect(closed).toEqual(['late-value']);
  });
});
