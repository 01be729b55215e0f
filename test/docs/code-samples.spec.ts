import { join } from 'node:path';
import {
  extractSamples,
  formatSampleError,
  markdownFiles,
  readRepoFile,
  SampleError,
  SAMPLES_DIR,
  typeCheckSamples,
} from './doc-samples';

/**
 * Every ```ts block in README.md and docs/*.md compiles against this checkout's sources (imports of
 * `@vali-blob/nestjs`, `/typeorm`, `/redis`, `/s3`, `/azure`, `/health`, `/testing` map to src/). A block right
 * after `<!-- not-compiled -->` is skipped; anything else that does not type-check fails with file, block and line.
 */
jest.setTimeout(120_000);

const files = markdownFiles();

describe('documentation code samples', () => {
  let errors: SampleError[];

  beforeAll(() => {
    const samples = files.flatMap((file) => extractSamples(file, readRepoFile(file)));
    errors = typeCheckSamples(samples, SAMPLES_DIR);
  });

  it('finds the README and the docs pages', () => {
    expect(files).toContain('README.md');
    expect(files.some((f) => f.startsWith('docs/'))).toBe(true);
  });

  it('reports no compiler-option problems', () => {
    expect(errors.filter((e) => e.file === '(compiler options)').map(formatSampleError)).toEqual([]);
  });

  it.each(files)('%s: every ts sample type-checks', (file) => {
    expect(errors.filter((e) => e.file === file).map(formatSampleError)).toEqual([]);
  });
});

describe('the sample checker itself', () => {
  const markdown = [
    '# Page',
    '```ts',
    "import { ValiBlobModule, VALIBLOB_DEFAULTS } from '@vali-blob/nestjs';",
    'const size: number = VALIBLOB_DEFAULTS.maxUploadSize;',
    'export const mod = ValiBlobModule.forRoot({ maxUploadSize: size });',
    '```',
    'Some text.',
    '<!-- not-compiled -->',
    '',
    '```ts',
    'this is not TypeScript at all',
    '```',
    '```typescript',
    "import { ValiBlobModule } from '@vali-blob/nestjs';",
    "export const broken: string = ValiBlobModule.forRoot({ maxUploadSize: 'big' });",
    '```',
  ].join('\n');

  it('extracts blocks with their number, line and the not-compiled marker', () => {
    const samples = extractSamples('docs/self-test.md', markdown);
    expect(samples.map(({ block, line, compiled }) => ({ block, line, compiled }))).toEqual([
      { block: 1, line: 3, compiled: true },
      { block: 2, line: 11, compiled: false },
      { block: 3, line: 14, compiled: true },
    ]);
  });

  it('passes a correct sample, skips a marked one and names file, block and line of a broken one', () => {
    const errors = typeCheckSamples(
      extractSamples('docs/self-test.md', markdown),
      join(SAMPLES_DIR, '..', 'doc-samples-self-test'),
    );
    expect(errors.length).toBeGreaterThan(0);
    // Only block 3 is wrong (the marked block 2 would not even parse).
    expect(new Set(errors.map((e) => `${e.file}#${e.block}`))).toEqual(new Set(['docs/self-test.md#3']));
    expect(errors.every((e) => e.line === 15)).toBe(true);
    expect(formatSampleError(errors[0])).toMatch(/^docs\/self-test\.md block 3 \(line 15\): TS\d+: /);
  });
});
