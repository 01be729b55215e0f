import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChildResult, childEnv, npmCommand, run } from './npm-client';
import { CHECKOUT, PackedLibrary, prepareScratchProject, ScratchProject, ScratchSpec } from './scratch-project';

/** The consumer app (fixture) copied into every scratch project: see scripts/consumer-app/README.md. */
export const CONSUMER_APP = join(CHECKOUT, 'scripts', 'consumer-app');

/** One line of the matrix: which Nest and TypeORM lines the scratch app installs from the registry. */
export interface ConsumerVariant {
  label: string;
  nest: '11' | '12';
  typeorm: '0.3' | '1';
  spec: ScratchSpec;
}

/** Everything a new Nest app has (or installs for this setup) that does not depend on the lines under test. */
const APP_BASE: Readonly<Record<string, string>> = {
  'reflect-metadata': '^0.2.0',
  rxjs: '^7.8.0',
  pg: '^8.11.0',
  // What `nest new` installs (^5.7). TypeScript 6 rejects both `nest new` tsconfigs as they are (TS5011 rootDir,
  // TS5101 baseUrl), so the apps that have these tsconfigs are on TypeScript 5.
  typescript: '^5.7.3',
  '@types/node': '^20.11.0',
  'tus-js-client': '^4.3.1',
};

function variant(nest: '11' | '12', typeorm: '0.3' | '1'): ConsumerVariant {
  const nestRange = `^${nest}.0.0`;
  return {
    label: `Nest ${nest} + TypeORM ${typeorm}`,
    nest,
    typeorm,
    spec: {
      name: `consumer-nest${nest}-typeorm${typeorm}`,
      dependencies: {
        ...APP_BASE,
        '@nestjs/common': nestRange,
        '@nestjs/core': nestRange,
        '@nestjs/platform-express': nestRange,
        '@nestjs/typeorm': nestRange,
        '@nestjs/terminus': nestRange,
        typeorm: typeorm === '1' ? '^1.0.0' : '^0.3.20',
      },
    },
  };
}

/**
 * The matrix: both TypeORM lines on Nest 11, and Nest 12 once more (its @nestjs/typeorm and @nestjs/terminus 12.x
 * lines exist) on the TypeORM line the library has always supported.
 */
export const CONSUMER_VARIANTS: ConsumerVariant[] = [variant('11', '0.3'), variant('11', '1'), variant('12', '0.3')];

/** A tsconfig of the fixture and where it compiles to. */
export interface TsconfigMode {
  label: string;
  tsconfig: string;
  outDir: string;
}

/** The classic Nest tsconfig (`"module": "commonjs"`, no moduleResolution = node10) and the nodenext one. */
export const TSCONFIG_MODES: TsconfigMode[] = [
  { label: 'classic (module commonjs, node10 resolution)', tsconfig: 'tsconfig.json', outDir: 'dist' },
  { label: 'nodenext', tsconfig: 'tsconfig.nodenext.json', outDir: 'dist-nodenext' },
];

/** Scratch project of one variant with the packed library installed and the consumer app copied in. */
export async function prepareConsumerProject(
  variant: ConsumerVariant,
  library: PackedLibrary,
): Promise<ScratchProject> {
  const project = await prepareScratchProject(variant.spec, library);
  cpSync(CONSUMER_APP, project.dir, { recursive: true });
  return project;
}

/** `tsc -p <tsconfig>` with the project's own TypeScript. */
export function compile(dir: string, mode: TsconfigMode): Promise<ChildResult> {
  return run(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', mode.tsconfig], dir, 120_000);
}

/** `npx typeorm migration:run -d <outDir>/data-source.js`: the app's own TypeORM CLI, against `databaseUrl`. */
export async function runMigrations(dir: string, mode: TsconfigMode, databaseUrl: string): Promise<ChildResult> {
  const args = ['exec', '--offline', '--', 'typeorm', 'migration:run', '-d', `${mode.outDir}/data-source.js`];
  const [command, argv] = npmCommand(args);
  return run(command, argv, dir, 120_000, childEnv({ DATABASE_URL: databaseUrl }));
}

/** Installed version of a package in the scratch project (what the app really compiled and ran against). */
export function installedVersion(dir: string, name: string): string {
  const manifest = join(dir, 'node_modules', ...name.split('/'), 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
