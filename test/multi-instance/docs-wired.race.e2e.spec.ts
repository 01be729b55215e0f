import Redis from 'ioredis';
import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForListeningPort } from '../support/child-port';
import { REDIS_URL, serviceAvailable } from '../support/services';
import { postgresReachable } from '../typeorm/postgres-gate';
import { createScratchPostgres, ScratchPostgres, scratchDir } from '../typeorm/typeorm-test-db';
import { jsonOf, RaceReply, sendSlowly } from './race-client';

/*
 * Issue 12 §1: two instances of an app wired exactly as docs/typeorm.md and docs/redis.md show (no lock options)
 * on one database / Redis and one storage directory. A slow chunk of 'A' bytes goes to instance 1 and a fast
 * chunk of 'B' bytes at the same offset to instance 2, over REST and over tus. Never two winners; the stored
 * prefix is exactly one writer's bytes; the finished blob is that writer's bytes; its recorded sha256 matches.
 * With process-local locks (the old default) the slow writer's bytes landed inside the fast writer's blob.
 */

const ROOT = join(__dirname, '..', '..');
const SIZE = 1024 * 1024;
const ROUNDS = 3;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Instance {
  url: string;
  child: ChildProcess;
}

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'test/multi-instance/docs-wired.app.ts'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { port } = await waitForListeningPort(child, /listening on (\d+)/, 'docs-wired app', 60_000);
  return { url: `http://127.0.0.1:${port}`, child };
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance || instance.child.exitCode !== null || instance.child.signalCode !== null) return;
  const exited = new Promise((resolve) => instance.child.once('exit', resolve));
  instance.child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000).then(() => instance.child.kill('SIGKILL'))]);
}

/** How one transport creates, writes, reads the offset of, and finishes an upload. */
interface Transport {
  name: string;
  create(base: string, size: number): Promise<string>;
  write(base: string, id: string, offset: number, body: Buffer, slow: boolean): Promise<RaceReply>;
  won(reply: RaceReply): boolean;
  interrupted(reply: RaceReply): boolean;
  offset(base: string, id: string): Promise<number>;
  finish(base: string, id: string, offset: number, rest: Buffer): Promise<void>;
}

const slowly = (slow: boolean) => (slow ? { piece: 64 * 1024, pause: 60 } : { piece: SIZE, pause: 0 });

const rest: Transport = {
  name: 'REST',
  async create(base, size) {
    const res = await fetch(`${base}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ totalSize: size, path: `race/${randomBytes(6).toString('hex')}.bin` }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { uploadId: string }).uploadId;
  },
  write(base, id, offset, body, slow) {
    const { piece, pause } = slowly(slow);
    return sendSlowly(
      `${base}/uploads/${id}/chunks/${offset}`,
      'PUT',
      { 'Content-Type': 'application/octet-stream' },
      body,
      piece,
      pause,
    );
  },
  won: (reply) => reply.status === 200,
  interrupted: (reply) => jsonOf(reply).code === 'UPLOAD_INTERRUPTED',
  async offset(base, id) {
    return ((await (await fetch(`${base}/uploads/${id}`)).json()) as { uploadedBytes: number }).uploadedBytes;
  },
  async finish(base, id, offset, data) {
    if (data.length > 0) {
      const put = await rest.write(base, id, offset, data, false);
      expect(put.status).toBe(200);
    }
    const done = await fetch(`${base}/uploads/${id}/complete`, { method: 'POST' });
    expect(done.status).toBe(200);
  },
};

const TUS = { 'Tus-Resumable': '1.0.0' };
const tus: Transport = {
  name: 'tus',
  async create(base, size) {
    const res = await fetch(`${base}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(size) } });
    expect(res.status).toBe(201);
    return res.headers.get('location')!.split('/').pop()!;
  },
  write(base, id, offset, body, slow) {
    const { piece, pause } = slowly(slow);
    const headers = { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' };
    return sendSlowly(`${base}/files/${id}`, 'PATCH', headers, body, piece, pause);
  },
  won: (reply) => reply.status === 204,
  interrupted: (reply) => jsonOf(reply).code === 'UPLOAD_INTERRUPTED',
  async offset(base, id) {
    return Number((await fetch(`${base}/files/${id}`, { method: 'HEAD', headers: TUS })).headers.get('upload-offset'));
  },
  async finish(base, id, offset, data) {
    if (data.length === 0) return; // the winning PATCH brought it to its length: tus completed it then
    const patch = await tus.write(base, id, offset, data, false);
    expect(patch.status).toBe(204);
  },
};

/** One race on a fresh upload; returns which writer's bytes won. */
async function race(transport: Transport, one: Instance, two: Instance, storageDir: string): Promise<'A' | 'B'> {
  const id = await transport.create(one.url, SIZE);
  const bytes = { A: Buffer.alloc(SIZE, 'A'), B: Buffer.alloc(SIZE, 'B') };
  const slow = transport.write(one.url, id, 0, bytes.A, true);
  await sleep(250); // instance 1 holds the upload and is mid-body
  const fast = transport.write(two.url, id, 0, bytes.B, false);
  const [a, b] = await Promise.all([slow, fast]);
  const summary = `${transport.name}: slow A → ${a.status} ${a.text}; fast B → ${b.status} ${b.text}`;

  // Never two winners for one offset.
  expect([transport.won(a), transport.won(b)].filter(Boolean).length).toBeLessThanOrEqual(1);
  const offset = await transport.offset(two.url, id);
  const winner: 'A' | 'B' = transport.won(a)
    ? 'A'
    : transport.won(b)
      ? 'B'
      : transport.interrupted(a) && offset > 0
        ? 'A'
        : 'B';
  if (transport.won(a) || transport.won(b)) expect(offset).toBe(SIZE);
  await transport.finish(two.url, id, offset, bytes[winner].subarray(offset));

  const status = (await (await fetch(`${one.url}/uploads/${id}`)).json()) as {
    status: string;
    path: string;
    checksum: string;
  };
  expect({ summary, status: status.status }).toEqual({ summary, status: 'Complete' });
  const blob = readFileSync(join(storageDir, status.path));
  // The whole blob is the winner's bytes (so its prefix was too), and the recorded digest is the blob's.
  expect({ summary, exact: blob.equals(bytes[winner]) }).toEqual({ summary, exact: true });
  expect(status.checksum).toBe(sha256(blob));
  return winner;
}

function raceSuite(
  wiring: 'typeorm' | 'redis',
  setup: () => Promise<Record<string, string> | null>,
  teardown: () => Promise<void>,
) {
  describe(`two processes wired as the docs show (${wiring}, no lock options)`, () => {
    const tmp = scratchDir(`race-${wiring}`);
    let one: Instance | undefined;
    let two: Instance | undefined;
    let ready = false;

    beforeAll(async () => {
      const env = await setup();
      if (!env) return;
      const full = { ...env, WIRING: wiring, STORAGE_DIR: join(tmp.dir, 'blobs') };
      // One after the other: the first runs the migrations.
      one = await startInstance(full);
      two = await startInstance(full);
      ready = true;
    }, 120_000);

    afterAll(async () => {
      await Promise.all([stopInstance(one), stopInstance(two)]);
      await teardown();
      tmp.cleanup();
    }, 60_000);

    for (const transport of [rest, tus]) {
      it(`${transport.name}: ${ROUNDS} races of different bytes at one offset, always one writer's bytes`, async () => {
        if (!ready) return;
        const winners: string[] = [];
        for (let round = 0; round < ROUNDS; round++)
          winners.push(await race(transport, one!, two!, join(tmp.dir, 'blobs')));
        // eslint-disable-next-line no-console -- the winners are reported in the test output on purpose
        console.log(`${wiring} ${transport.name} race winners: ${winners.join(' ')}`);
      }, 90_000);
    }
  });
}

let scratch: ScratchPostgres | undefined;
raceSuite(
  'typeorm',
  async () => {
    if (!postgresReachable()) return null;
    scratch = await createScratchPostgres('race');
    return { DATABASE_URL: scratch.url };
  },
  async () => scratch?.drop(),
);

const prefix = `vbrace:${randomBytes(5).toString('hex')}:`;
raceSuite(
  'redis',
  async () => ((await serviceAvailable('Redis', REDIS_URL)) ? { REDIS_URL, KEY_PREFIX: prefix } : null),
  async () => {
    if (!(await serviceAvailable('Redis', REDIS_URL))) return;
    const admin = new Redis(REDIS_URL);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  },
);
