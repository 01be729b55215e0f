import { Logger } from '@nestjs/common';
import { UnknownProviderError } from '../errors/vali-blob.errors';
import type { LocalProviderConfig, ResolvedValiBlobOptions, StorageProviderConfig } from '../vali-blob.options';
import { LocalStorageProvider } from './local/local-storage.provider';
import { MemoryStorageProvider } from './memory/memory-storage.provider';
import { StorageProvider } from './storage-provider';

/**
 * Holds the named storage providers built from the options. Engine and controllers look providers up here by
 * the name recorded in each session, so a session always goes back to the provider that holds its data.
 * @publicApi
 */
export class StorageRegistry {
  private readonly providers = new Map<string, StorageProvider>();

  constructor(
    configs: Record<string, StorageProviderConfig>,
    /** Name used when none is given. */
    readonly defaultName: string,
  ) {
    for (const [name, config] of Object.entries(configs)) {
      const provider = createProvider(config);
      provider.name = name;
      this.providers.set(name, provider);
    }
  }

  /** Build the registry from resolved module options. */
  static fromOptions(options: ResolvedValiBlobOptions): StorageRegistry {
    const registry = new StorageRegistry(options.providers, options.defaultProvider);
    new Logger('ValiBlob').log(
      `Storage providers: ${registry.names().join(', ')} (default ${options.defaultProvider})`,
    );
    return registry;
  }

  /** The provider of that name (default when omitted); `UnknownProviderError` otherwise. */
  get(name?: string | null): StorageProvider {
    const provider = this.providers.get(name ?? this.defaultName);
    if (!provider) throw new UnknownProviderError(name ?? this.defaultName);
    return provider;
  }

  /** Whether a provider of that name is registered. */
  has(name: string): boolean {
    return this.providers.has(name);
  }

  /** Registered names. */
  names(): string[] {
    return [...this.providers.keys()];
  }
}

function createProvider(config: StorageProviderConfig): StorageProvider {
  if (config instanceof StorageProvider) return config;
  if ((config as { type?: string }).type === 'memory') return new MemoryStorageProvider();
  const local = config as LocalProviderConfig;
  return new LocalStorageProvider({ root: local.root, fsync: local.fsync });
}
