import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as ts from 'typescript';

/** Put right before a ```ts block (blank lines allowed in between) to leave it out of the compile check. */
export const NOT_COMPILED_MARKER = '<!-- not-compiled -->';

/** One ```ts block of a markdown file. */
export interface DocSample {
  /** Markdown file, relative to the repository root. */
  file: string;
  /** 1-based number among the file's ```ts blocks (compiled or not), as the failure message names it. */
  block: number;
  /** 1-based line of the block's first code line in the markdown file. */
  line: number;
  code: string;
  compiled: boolean;
}

/** A type error in a sample, located in the markdown file. */
export interface SampleError {
  file: string;
  block: number;
  /** Line in the markdown file. */
  line: number;
  message: string;
}

const REPO_ROOT = join(__dirname, '..', '..');

/**
 * The package's entry points as users import them, mapped to the sources so samples are checked against the
 * code in this checkout (the same subpaths as package.json `exports`).
 */
export const SAMPLE_PATHS: Record<string, string[]> = {
  '@vali-blob/nestjs': ['src/index.ts'],
  '@vali-blob/nestjs/typeorm': ['src/typeorm.ts'],
  '@vali-blob/nestjs/redis': ['src/redis.ts'],
  '@vali-blob/nestjs/s3': ['src/s3.ts'],
  '@vali-blob/nestjs/azure': ['src/azure.ts'],
  '@vali-blob/nestjs/health': ['src/health.ts'],
  '@vali-blob/nestjs/testing': ['src/testing/index.ts'],
  '@vali-blob/nestjs/migrations': ['migrations/index.ts'],
};

/** Extract the ```ts / ```typescript blocks of one markdown text. */
export function extractSamples(file: string, markdown: string): DocSample[] {
  const lines = markdown.split(/\r?\n/);
  const samples: DocSample[] = [];
  let block = 0;
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)\b/.exec(lines[i]);
    if (!open) continue;
    const fence = open[2];
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (lines[j].trim().startsWith(fence) && lines[j].trim().replace(/[`~]/g, '') === '') break;
      body.push(lines[j].slice(Math.min(indent, lines[j].length - lines[j].trimStart().length)));
    }
    block++;
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const compiled = !(k >= 0 && lines[k].trim() === NOT_COMPILED_MARKER);
    samples.push({ file, block, line: i + 2, code: body.join('\n'), compiled });
    i = j;
  }
  return samples;
}

/**
 * Type-check samples with the TypeScript compiler API: each block becomes its own module under `outDir`
 * (inside the repository, so `node_modules` and the `@vali-blob/nestjs/*` paths resolve), compiled with the
 * project's tsconfig plus `lib: dom` (browser client samples) and the `SAMPLE_PATHS` mapping. Returns every error
 * located in a sample, mapped back to its markdown file, block and line.
 */
export function typeCheckSamples(samples: DocSample[], outDir: string): SampleError[] {
  rmSync(outDir, { recursive: true, force: true });
  const byFile = new Map<string, DocSample>();
  for (const sample of samples.filter((s) => s.compiled)) {
    const name = join(outDir, sample.file.replace(/[\\/]/g, '__').replace(/\.md$/i, ''), `block-${sample.block}.ts`);
    mkdirSync(dirname(name), { recursive: true });
    // `export {}` keeps every block a module of its own, so two blocks declaring `AppModule` do not clash.
    writeFileSync(name, `${sample.code}\n\nexport {};\n`);
    byFile.set(ts.sys.resolvePath(name), sample);
  }
  if (byFile.size === 0) return [];

  const configPath = join(REPO_ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO_ROOT);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    baseUrl: REPO_ROOT,
    paths: SAMPLE_PATHS,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    // Samples show fragments of an app: unused imports or locals are not errors there.
    noUnusedLocals: false,
    noUnusedParameters: false,
  };
  const program = ts.createProgram({ rootNames: [...byFile.keys()], options });
  const errors: SampleError[] = [];
  const all = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  for (const sourceFile of program.getRootFileNames().map((f) => program.getSourceFile(f)!)) {
    all.push(...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile));
  }
  for (const diagnostic of all) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const sample = diagnostic.file ? byFile.get(ts.sys.resolvePath(diagnostic.file.fileName)) : undefined;
    if (!sample) {
      // Only a diagnostic without a file (options, globals) can land here: it breaks every sample.
      if (!diagnostic.file) errors.push({ file: '(compiler options)', block: 0, line: 0, message });
      continue;
    }
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    errors.push({
      file: sample.file,
      block: sample.block,
      line: sample.line + line,
      message: `TS${diagnostic.code}: ${message}`,
    });
  }
  return errors;
}

/** README.md and docs/*.md of the repository, relative paths. */
export function markdownFiles(): string[] {
  const docsDir = join(REPO_ROOT, 'docs');
  const docs = ts.sys.readDirectory(docsDir, ['.md'], undefined, undefined, 1).map((p) => relative(REPO_ROOT, p));
  return ['README.md', ...docs.sort()];
}

/** Read a repository file. */
export function readRepoFile(file: string): string {
  return readFileSync(join(REPO_ROOT, file), 'utf8');
}

/** Where the generated sample modules go (git-ignored `.tmp/`, inside the repository on purpose). */
export const SAMPLES_DIR = join(REPO_ROOT, '.tmp', 'doc-samples');

/** One readable line per error: `docs/x.md block 3 (line 42): TS2304: Cannot find name 'foo'.` */
export function formatSampleError(error: SampleError): string {
  return `${error.file} block ${error.block} (line ${error.line}): ${error.message}`;
}
