import {
  CHECKSUM_ALGORITHMS,
  InvalidValiBlobOptionsError,
  MemoryUploadLocker,
  resolveValiBlobOptions,
  VALIBLOB_DEFAULTS,
  ValiBlobModuleOptions,
} from '../../src';

/** Issue 14: one defaults table, one report of every problem (http included), lock.locker checked like cleanup.lock. */

function problemsOf(options: ValiBlobModuleOptions, http?: Parameters<typeof resolveValiBlobOptions>[1]): string[] {
  try {
    resolveValiBlobOptions(options, http);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidValiBlobOptionsError);
    return (error as InvalidValiBlobOptionsError).problems;
  }
  return [];
}

describe('resolveValiBlobOptions', () => {
  it('applies every default from VALIBLOB_DEFAULTS', () => {
    const resolved = resolveValiBlobOptions({});
    expect(resolved).toMatchObject({
      defaultProvider: VALIBLOB_DEFAULTS.defaultProvider,
      providers: { local: { root: VALIBLOB_DEFAULTS.localRoot } },
      sessionStore: VALIBLOB_DEFAULTS.sessionStore,
      maxUploadSize: VALIBLOB_DEFAULTS.maxUploadSize,
      sessionExpiration: VALIBLOB_DEFAULTS.sessionExpiration,
      completedRetention: VALIBLOB_DEFAULTS.completedRetention,
      checksumAlgorithms: [...CHECKSUM_ALGORITHMS],
      wholeFileChecksum: true,
      idleTimeoutMs: VALIBLOB_DEFAULTS.idleTimeoutMs,
      storeTimeoutMs: VALIBLOB_DEFAULTS.storeTimeoutMs,
      maxConcurrentWrites: VALIBLOB_DEFAULTS.maxConcurrentWrites,
      cleanup: {
        enabled: true,
        cron: VALIBLOB_DEFAULTS.cleanupCron,
        batchSize: VALIBLOB_DEFAULTS.cleanupBatchSize,
        shutdownTimeoutMs: VALIBLOB_DEFAULTS.cleanupShutdownTimeoutMs,
      },
      ownerScope: null,
      lock: { waitMs: VALIBLOB_DEFAULTS.lockWaitMs, requestRelease: true, scope: 'store' },
      tus: {
        optionsStatus200: false,
        cors: false,
        maxMetadataSize: VALIBLOB_DEFAULTS.maxMetadataSize,
        conflict: 'fail',
      },
    });
    expect(VALIBLOB_DEFAULTS).toMatchObject({
      shutdownDrainMs: 10_000,
      healthTimeoutMs: 2_000,
      healthMaxExpired: 10_000,
    });
  });

  it('defaults defaultProvider to the first configured provider', () => {
    const providers = { b: { type: 'memory' as const }, a: { type: 'memory' as const } };
    expect(resolveValiBlobOptions({ providers }).defaultProvider).toBe('b');
  });

  it('checks lock.locker like cleanup.lock', () => {
    expect(problemsOf({ lock: { locker: {} as never }, cleanup: { lock: {} as never } })).toEqual([
      expect.stringMatching(/^cleanup\.lock must be/),
      expect.stringMatching(/^lock\.locker must be/),
    ]);
    expect(problemsOf({ lock: { locker: new MemoryUploadLocker() } })).toEqual([]);
    expect(problemsOf({ lock: { locker: { useFactory: () => new MemoryUploadLocker() } } })).toEqual([]);
  });

  it('reports the static http option with the rest', () => {
    const problems = problemsOf({ maxUploadSize: 0 }, { blobs: { path: '..' }, tus: {} as never });
    expect(problems).toHaveLength(3);
    expect(problems.filter((p) => p.startsWith('http.'))).toHaveLength(2);
  });

  it('finds a wrong owner-scope prefix function at bootstrap', () => {
    const authorize = () => true;
    expect(problemsOf({ authorize, ownerScope: { prefix: () => 'shared/' } })).toEqual([
      expect.stringMatching(/^ownerScope\.prefix must give every owner its own prefix/),
    ]);
    expect(problemsOf({ authorize, ownerScope: { prefix: (id) => `owners/${id}` } })).toEqual([
      expect.stringMatching(/^ownerScope\.prefix must return a valid blob path ending with "\/"/),
    ]);
    expect(problemsOf({ authorize, ownerScope: { prefix: (id) => `../${id}/` } })).toHaveLength(1);
    expect(problemsOf({ authorize, ownerScope: { prefix: (id) => `tenants/${id}/files/` } })).toEqual([]);
  });
});
