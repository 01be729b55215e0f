import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  getStorageToken,
  InjectStorage,
  InvalidValiBlobOptionsError,
  MemoryStorageProvider,
  StorageProvider,
  UnknownProviderError,
  ValiBlobModule,
  ValiBlobModuleOptions,
  ValiBlobOptionsFactory,
} from '../../src';

/** Issue 14: forRootAsync with an options factory class, static storage names, and bootstrap-time failures. */

@Injectable()
class Limits {
  readonly maxUploadSize = 1234;
}

@Injectable()
class UploadConfig implements ValiBlobOptionsFactory {
  constructor(private readonly limits: Limits) {}
  createValiBlobOptions(): ValiBlobModuleOptions {
    return {
      providers: { m: { type: 'memory' }, archive: { type: 'memory' } },
      maxUploadSize: this.limits.maxUploadSize,
    };
  }
}

@Injectable()
class NeedsArchive {
  constructor(@InjectStorage('archive') readonly archive: StorageProvider) {}
}

const NO_HTTP = { tus: false, rest: false } as const;

describe('ValiBlobModule.forRootAsync', () => {
  it('takes a useClass options factory whose dependencies come from extraProviders', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRootAsync({
          useClass: UploadConfig,
          extraProviders: [Limits],
          storageNames: ['archive'],
          http: NO_HTTP,
        }),
      ],
      providers: [NeedsArchive],
    }).compile();
    expect(moduleRef.get(NeedsArchive).archive).toBeInstanceOf(MemoryStorageProvider);
    expect(moduleRef.get(NeedsArchive).archive.name).toBe('archive');
    expect(moduleRef.get<{ maxUploadSize: number }>('VALIBLOB:OPTIONS').maxUploadSize).toBe(1234);
    await moduleRef.close();
  });

  it('takes a useExisting options factory from its imports', async () => {
    @Module({ providers: [Limits, UploadConfig], exports: [UploadConfig] })
    class UploadConfigModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRootAsync({ imports: [UploadConfigModule], useExisting: UploadConfig, http: NO_HTTP }),
      ],
    }).compile();
    expect(moduleRef.get(StorageProvider).name).toBe('m');
    await moduleRef.close();
  });

  it('fails bootstrap with UnknownProviderError for a storage name the factory does not configure', async () => {
    const error = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRootAsync({
          useFactory: () => ({ providers: { m: { type: 'memory' as const } } }),
          storageNames: ['archive'],
          http: NO_HTTP,
        }),
      ],
    })
      .compile()
      .catch((e) => e);
    expect(error).toBeInstanceOf(UnknownProviderError);
    expect(String(error.message)).toContain('archive');
  });

  it('fails bootstrap naming the token when an injected name is not declared', async () => {
    const error = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRootAsync({
          useFactory: () => ({ providers: { m: { type: 'memory' as const } } }),
          http: NO_HTTP,
        }),
      ],
      providers: [NeedsArchive],
    })
      .compile()
      .catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String(error.message)).toContain(getStorageToken('archive'));
  });
});

describe('ValiBlobModule composition is static', () => {
  it('getStorageToken has no side effect: a name requested elsewhere gets no provider', async () => {
    getStorageToken('ghost');
    const moduleRef = await Test.createTestingModule({
      imports: [ValiBlobModule.forRoot({ providers: { m: { type: 'memory' } }, http: NO_HTTP })],
    }).compile();
    expect(moduleRef.get(getStorageToken('m'))).toBe(moduleRef.get(StorageProvider));
    expect(() => moduleRef.get(getStorageToken('ghost'))).toThrow();
    await moduleRef.close();
  });

  it('forRoot with the default providers exports the local token', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ValiBlobModule.forRoot({ http: NO_HTTP, cleanup: { enabled: false } })],
    }).compile();
    expect(moduleRef.get(getStorageToken('local')).name).toBe('local');
    await moduleRef.close();
  });

  it('reports problems with the static http option in the same bootstrap report as the others', async () => {
    // Defining the module does not throw; bootstrap reports everything at once.
    const module = ValiBlobModule.forRoot({
      maxUploadSize: -1,
      http: { tus: { path: '../up' }, keepRequestTimeout: 'yes' as never },
    });
    const error = await Test.createTestingModule({ imports: [module] })
      .compile()
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidValiBlobOptionsError);
    const problems = (error as InvalidValiBlobOptionsError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/maxUploadSize[\s\S]*http\.keepRequestTimeout[\s\S]*http\.tus\.path/);
  });

  it('reports forRootAsync http problems with the factory options', async () => {
    const error = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRootAsync({ useFactory: () => ({ storeTimeoutMs: 0 }), http: { rest: { path: 'a b' } } }),
      ],
    })
      .compile()
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidValiBlobOptionsError);
    expect((error as InvalidValiBlobOptionsError).problems).toEqual([
      expect.stringContaining('storeTimeoutMs'),
      expect.stringContaining('http.rest.path'),
    ]);
  });
});
