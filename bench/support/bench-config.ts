import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { PINNED, SERVER_CORE, CLIENT_CORE, SHA_MASKED } from './server-env';
import { BENCH_DIR, storageKind } from './storage';

/** The configuration a run measured: what decides which results file it lands in and what its header says. */
export interface BenchConfiguration {
  /** `<storage>-<sha|nosha>[-pinned]`: the name of its results file and section. */
  key: string;
  storage: 'tmpfs' | 'disk';
  benchDir: string;
  cpuModel: string;
  cores: number;
  /** The CPU has SHA extensions (`sha_ni` in /proc/cpuinfo). */
  cpuShaExtensions: boolean;
  /** This run hides them from the servers (BENCH_SHA=off). */
  shaMasked: boolean;
  /** The servers' sha256 runs with SHA extensions. */
  sha: boolean;
  pinned: boolean;
  memory: string;
  node: string;
  platform: string;
}

function cpuInfo(): { model: string; sha: boolean } {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: fall back to what Node reports, and assume no SHA extensions
  }
  const model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1].trim() ?? cpus()[0]?.model.trim() ?? 'unknown';
  const flags = /^flags\s*:\s*(.+)$/m.exec(text)?.[1].split(/\s+/) ?? [];
  return { model, sha: flags.includes('sha_ni') };
}

/** The configuration of this run (machine, storage of BENCH_DIR, SHA mode, pinning). */
export function benchConfiguration(): BenchConfiguration {
  const cpu = cpuInfo();
  const storage = storageKind();
  const sha = cpu.sha && !SHA_MASKED;
  return {
    key: `${storage}-${sha ? 'sha' : 'nosha'}${PINNED ? '-pinned' : ''}`,
    storage,
    benchDir: BENCH_DIR,
    cpuModel: cpu.model,
    cores: cpus().length,
    cpuShaExtensions: cpu.sha,
    shaMasked: SHA_MASKED,
    sha,
    pinned: PINNED,
    memory: `${Math.round(totalmem() / 1024 ** 3)} GiB`,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** One-line description of a configuration, printed at the start of a run and above its RESULTS.md section. */
export function describeConfiguration(config: BenchConfiguration): string {
  const shaText = config.cpuShaExtensions
    ? `SHA extensions: yes${config.shaMasked ? ', masked for the servers in this run by BENCH_SHA=off' : ', used'}`
    : 'SHA extensions: no';
  return [
    `CPU ${config.cores} × ${config.cpuModel} (${shaText})`,
    `${config.memory} RAM, Node ${config.node}, ${config.platform}`,
    `storage: ${config.storage} (${config.benchDir})`,
    config.pinned
      ? `pinned: servers on core ${SERVER_CORE}, benchmark client on core ${CLIENT_CORE} (BENCH_PIN=1)`
      : 'not pinned: servers and benchmark client share all cores',
  ].join('; ');
}
