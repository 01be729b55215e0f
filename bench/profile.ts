/**
 * `node -r @swc-node/register bench/profile.ts [tus|rest] [MiB] [chunkMiB]` — upload one file through the real
 * server running under the CPU profiler and print where the server's CPU time went (self time by function and by
 * category). The raw profile is kept in bench/results/server.cpuprofile.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiB, withScratch } from './support/processes';
import { restUpload, tusUpload } from './support/uploaders';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

async function main(): Promise<void> {
  const [protocol = 'tus', sizeMiB = '512', chunkMiB = '8'] = process.argv.slice(2);
  const out = join(__dirname, 'results', 'server.cpuprofile');
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  await withScratch('profile', async (dir) => {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', join(__dirname, 'support', 'profiled-server.ts')],
      {
        cwd: join(__dirname, '..'),
        env: {
          ...process.env,
          PORT: '0',
          HOST: '127.0.0.1',
          STORAGE_DIR: join(dir, 'blobs'),
          DATABASE_URL: `sqlite:${join(dir, 's.sqlite')}`,
          PROFILE_OUT: out,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const port = await new Promise<number>((resolve) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
        if (m) resolve(Number(m[1]));
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    });
    const url = `http://127.0.0.1:${port}`;
    const upload = protocol === 'rest' ? restUpload : tusUpload;
    const started = Date.now();
    await upload(url, Number(sizeMiB) * MiB, Number(chunkMiB) * MiB, { name: 'profiled.bin' });
    console.log(`${protocol}: ${sizeMiB} MiB in ${Number(chunkMiB)} MiB chunks took ${Date.now() - started} ms`);
    const written = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => d.toString().includes('profile written') && resolve()),
    );
    child.kill('SIGUSR2');
    await written;
    child.kill('SIGKILL');
  });

  const profile = JSON.parse(readFileSync(out, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byCategory = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const file = url.replace(/^.*\/(node_modules\/[^/]+(\/[^/]+)?|src|bench)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const category =
      functionName === '(idle)'
        ? 'idle (waiting on I/O)'
        : functionName === '(garbage collector)'
          ? 'garbage collector'
          : /hash|digest|update/i.test(functionName) && !url
            ? 'hashing (native)'
            : url.includes('node_modules')
              ? `library ${url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')}`
              : url.startsWith('node:')
                ? 'node core (streams, fs, http)'
                : url.includes('/src/')
                  ? 'ValiBlob src'
                  : functionName.startsWith('(')
                    ? functionName
                    : 'native/other';
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1)}%`;
  console.log('\nServer CPU by category:');
  for (const [k, v] of [...byCategory].sort((a, b) => b[1] - a[1]).slice(0, 12))
    console.log(`  ${pct(v).padStart(6)}  ${k}`);
  console.log('\nTop self time:');
  for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 20))
    console.log(`  ${pct(v).padStart(6)}  ${k}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
