/** One table row of a benchmark (column → value). */
export type BenchRow = Record<string, string | number | boolean>;

/** What every benchmark returns: its table and notes on how to read it. */
export interface BenchResult {
  name: string;
  title: string;
  rows: BenchRow[];
  notes: string[];
}

/** A benchmark the runner can select by name. */
export interface Benchmark {
  name: string;
  title: string;
  run(): Promise<BenchResult>;
}

/** Render rows as a Markdown table (columns in first-seen order). */
export function markdownTable(rows: BenchRow[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cell = (value: unknown) => (value === undefined ? '' : String(value));
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${columns.map((c) => cell(row[c])).join(' | ')} |`),
  ].join('\n');
}
