import { Global, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Readable } from 'node:stream';
import {
  InvalidValiBlobOptionsError,
  MemorySessionStore,
  ResumableUploadService,
  UploadCreateContext,
  UploadPolicyHooks,
  UploadRejectedError,
  ValiBlobModule,
  VirusScanner,
} from '../../src';
import { S3StorageProvider } from '../../src/s3';

@Injectable()
class TenantDirectory {
  readonly blocked = new Set(['mallory']);
}

@Module({ providers: [TenantDirectory], exports: [TenantDirectory] })
class TenantModule {}

/** forRoot has no `imports` of its own: a recipe's dependencies come from global modules there. */
@Global()
@Module({ providers: [TenantDirectory], exports: [TenantDirectory] })
class GlobalTenantModule {}

/** A hook class with a dependency, as Nest users write them. */
@Injectable()
class TenantHooks implements UploadPolicyHooks {
  constructor(private readonly tenants: TenantDirectory) {}

  onCreate(ctx: UploadCreateContext) {
    if (ctx.owner && this.tenants.blocked.has(ctx.owner)) {
      throw new UploadRejectedError('Tenant suspended', { status: 403, code: 'TENANT_SUSPENDED' });
    }
  }
}

class NullScanner extends VirusScanner {
  async scan(stream: Readable) {
    stream.resume();
    return { clean: true };
  }
  async ping() {}
}

describe('upload policy wiring (module)', () => {
  async function expectSuspended(uploads: ResumableUploadService): Promise<void> {
    const error = await uploads.start({ path: 'a', totalSize: 1, owner: 'mallory' }).catch((e) => e);
    expect(error).toMatchObject({ status: 403, code: 'TENANT_SUSPENDED' });
    await expect(uploads.start({ path: 'b', totalSize: 1, owner: 'alice' })).resolves.toBeDefined();
  }

  it('hooks as { useClass } inject the app services (forRoot)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        GlobalTenantModule,
        ValiBlobModule.forRoot({
          providers: { mem: { type: 'memory' } },
          policy: { hooks: { useClass: TenantHooks } },
          http: { tus: false, rest: false },
        }),
      ],
    }).compile();
    await expectSuspended(moduleRef.get(ResumableUploadService));
    await moduleRef.close();
  });

  it('hooks as { useClass } inject the app services (forRootAsync imports)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRootAsync({
          imports: [TenantModule],
          useFactory: () => ({
            providers: { mem: { type: 'memory' } },
            policy: { hooks: { useClass: TenantHooks } },
          }),
          http: { tus: false, rest: false },
        }),
      ],
    }).compile();
    await expectSuspended(moduleRef.get(ResumableUploadService));
    await moduleRef.close();
  });

  it('invalid policy options fail bootstrap listing every problem', async () => {
    const boot = Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { mem: { type: 'memory' } },
          policy: {
            hookTimeoutMs: -1,
            validation: { allowedContentTypes: ['image'], blockedExtensions: ['a/b'] },
            contentType: { sniff: 'yes' as never },
            scan: { scanner: {} as never, onError: 'maybe' as never },
            quota: { maxBytes: -5 },
          },
          http: { tus: false, rest: false },
        }),
      ],
    }).compile();
    const error = await boot.catch((e) => e);
    expect(error).toBeInstanceOf(InvalidValiBlobOptionsError);
    for (const key of [
      'policy.hookTimeoutMs',
      'allowedContentTypes',
      'blockedExtensions',
      'policy.contentType.sniff',
      'policy.scan.scanner',
      'policy.scan.onError',
      'policy.quota.maxBytes',
    ]) {
      expect(error.message).toContain(key);
    }
  });

  it('a scanner with a provider that cannot read staged uploads (S3) fails bootstrap', async () => {
    const s3 = new S3StorageProvider({
      bucket: 'b',
      clientConfig: { region: 'us-east-1', endpoint: 'http://127.0.0.1:1' },
    });
    const error = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { s3 },
          policy: { scan: { scanner: new NullScanner() } },
          http: { tus: false, rest: false },
        }),
      ],
    })
      .compile()
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidValiBlobOptionsError);
    expect(error.message).toContain('s3');
  });

  it('quotas with a store that keeps no quota data fail bootstrap unless policy.quota.store is given', async () => {
    class PlainStore extends MemorySessionStore {
      override createQuotaStore(): never {
        return null as never;
      }
    }
    const error = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { mem: { type: 'memory' } },
          sessionStore: new PlainStore(),
          policy: { quota: { maxBytes: 10 } },
          http: { tus: false, rest: false },
        }),
      ],
    })
      .compile()
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidValiBlobOptionsError);
    expect(error.message).toContain('policy.quota.store');
  });
});
