import { MiB } from './processes';

/** One measured cell of the throughput table. */
export interface Cell {
  mibPerSecond: number;
  cpuPerGiB: number;
}

/** Looks a cell up by contender key (`raw`, `tus`, `rest`, `tus-node`, …) and chunk size in bytes. */
export type CellOf = (contender: string, chunk: number) => Cell | undefined;

/** A throughput target: which ValiBlob rows, at which chunk sizes, on which storage, must reach what. */
interface Target {
  storage: 'tmpfs' | 'disk' | 'any';
  chunksMiB: number[];
  text: string;
  /** The ratio (or margin) a row reaches, and the bound it must meet. */
  measure(
    cell: Cell,
    cellOf: CellOf,
    chunk: number,
    sha256AloneCpu: number,
  ): { value: number; bound: number } | undefined;
  unit: string;
  /** The figure must stay at or below the bound (CPU) instead of reaching it (speed ratios). */
  atMost?: boolean;
}

const ratio = (cell: Cell, base: Cell | undefined, bound: number) =>
  base ? { value: cell.mibPerSecond / base.mibPerSecond, bound } : undefined;

/** A speed target: the ValiBlob row's MiB/s at least `factor` × the `peer` row's, for those chunk sizes. */
function speedTarget(
  storage: Target['storage'],
  chunksMiB: number[],
  text: string,
  peer: string,
  factor: number,
): Target {
  return {
    storage,
    chunksMiB,
    text,
    unit: '×',
    measure: (cell, cellOf, chunk) => ratio(cell, cellOf(peer, chunk), factor),
  };
}

/**
 * The targets of issue 17, checked on every run (only for the chunk sizes and storage the run measured).
 * ValiBlob rows = tus PATCH and REST chunks with the default configuration.
 */
const TARGETS: Target[] = [
  speedTarget('tmpfs', [8, 64], 'tus and REST >= 1.5× @tus/server', 'tus-node', 1.5),
  speedTarget('tmpfs', [8, 64], 'tus and REST >= 0.8× the gathered raw pipe (fdatasync per chunk)', 'raw', 0.8),
  speedTarget('tmpfs', [1], 'tus and REST >= 1.25× @tus/server', 'tus-node', 1.25),
  speedTarget('disk', [8, 64], 'tus and REST >= 0.95× the raw pipe with fsync', 'raw', 0.95),
  {
    storage: 'any',
    chunksMiB: [1, 8, 64],
    text: 'server CPU s/GiB of tus and REST <= @tus/server’s + sha256 alone',
    unit: ' s/GiB',
    atMost: true,
    measure: (cell, cellOf, chunk, sha256AloneCpu) => {
      const peer = cellOf('tus-node', chunk);
      return peer ? { value: cell.cpuPerGiB, bound: peer.cpuPerGiB + sha256AloneCpu } : undefined;
    },
  },
];

/**
 * One note per target that applies to this run: the target, met or missed, and each ValiBlob row's figure.
 * Computed from the measured cells, never written by hand.
 */
export function targetNotes(
  storage: 'tmpfs' | 'disk',
  chunks: number[],
  cellOf: CellOf,
  sha256AloneCpu: number,
): string[] {
  const notes: string[] = [];
  for (const target of TARGETS) {
    if (target.storage !== 'any' && target.storage !== storage) continue;
    const checked: string[] = [];
    let met = true;
    for (const chunk of chunks.filter((c) => target.chunksMiB.includes(c / MiB))) {
      for (const [key, label] of [
        ['tus', 'tus'],
        ['rest', 'REST'],
      ]) {
        const cell = cellOf(key, chunk);
        const result = cell && target.measure(cell, cellOf, chunk, sha256AloneCpu);
        if (!result) continue;
        const ok = target.atMost ? result.value <= result.bound : result.value >= result.bound;
        met &&= ok;
        const shown = `${result.value.toFixed(2)}${target.unit}`;
        const bound = !target.atMost ? '' : ` (bound ${result.bound.toFixed(2)})`;
        checked.push(`${label} ${chunk / MiB} MiB ${shown}${bound}${ok ? '' : ' ✗'}`);
      }
    }
    if (checked.length === 0) continue;
    const where = target.storage === 'any' ? '' : ` (${target.storage})`;
    notes.push(
      `Target${where}: ${target.text} at ${target.chunksMiB.join('/')} MiB chunks — ` +
        `${met ? 'MET' : 'MISSED'} in this run: ${checked.join(', ')}.`,
    );
  }
  return notes;
}
