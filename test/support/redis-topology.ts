import Redis from 'ioredis';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * Real Redis topologies for tests, started from the machine's redis-server on loopback ports in a temp dir and
 * torn down by `stop()` (processes killed, dir removed). Nothing persists (`--save "" --appendonly no`).
 */

/** A host/port pair as ioredis takes it. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** A running 3-master (or n-master) Redis Cluster. */
export interface RedisClusterTopology {
  /** Every master node (seed list for `new Cluster(nodes)`). */
  nodes: RedisNodeAddress[];
  /** `REDIS_CLUSTER` server env form: `host:port,host:port,…`. */
  env: string;
  /** Kill every process and remove the temp dir. Idempotent, never throws. */
  stop(): Promise<void>;
}

/** A running master + replica watched by one Sentinel (quorum 1). */
export interface RedisSentinelTopology {
  /** The Sentinel(s) to connect through. */
  sentinels: RedisNodeAddress[];
  /** The monitored master's name. */
  name: string;
  /** `REDIS_SENTINELS` server env form. */
  env: string;
  /** Port of the node Sentinel currently reports as master. */
  masterPort(): Promise<number>;
  /** Port of the other data node (the replica). */
  replicaPort(): Promise<number>;
  /** `SENTINEL FAILOVER`, then wait until Sentinel and both nodes agree on the swapped roles. */
  failover(): Promise<{ from: number; to: number }>;
  /** Kill every process and remove the temp dir. Idempotent, never throws. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const picked = new Set<number>();

/** Whether a loopback port can be bound right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** A random free port in 20000-29999 whose cluster bus port (+10000) is free too. */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if (picked.has(port)) continue;
    if ((await portFree(port)) && (await portFree(port + 10000))) {
      picked.add(port);
      return port;
    }
  }
  throw new Error('No free loopback port pair found for Redis');
}

/** One command on a short-lived connection (no retries: a node that is not up yet just fails). */
async function command(port: number, name: string, ...args: string[]): Promise<unknown> {
  const client = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(name, ...args);
  } finally {
    client.disconnect();
  }
}

/** Poll `check` every 100 ms until it returns true; fail with `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`Timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** Every topology not stopped yet, including ones still starting (see `stopRedisTopologies`). */
const live = new Set<Processes>();

// Last resort when a suite dies without its afterAll: no redis-server outlives the test process.
process.once('exit', () => {
  for (const procs of live) procs.killNow();
});

/** Processes and the temp dir of one topology; `stop` kills and removes everything. */
class Processes {
  private readonly children: ChildProcess[] = [];
  private stopped?: Promise<void>;

  constructor(readonly dir: string) {
    live.add(this);
  }

  /** Synchronous SIGKILL of every child and removal of the dir (for the process 'exit' handler). */
  killNow(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  spawn(args: string[]): ChildProcess {
    const child = spawn('redis-server', args, { cwd: this.dir, stdio: 'ignore' });
    child.on('error', () => undefined);
    this.children.push(child);
    return child;
  }

  kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return exited;
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      live.delete(this);
      await Promise.all(this.children.map((child) => this.kill(child)));
      await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    })();
    return this.stopped;
  }
}

function dataNodeArgs(port: number, dir: string): string[] {
  return [
    '--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no',
    '--logfile', join(dir, `${port}.log`), '--daemonize', 'no', '--protected-mode', 'no',
    // Replicas sync at once (the default waits 5 s for more replicas to join a diskless transfer).
    '--repl-diskless-sync-delay', '0',
  ]; // prettier-ignore
}

async function waitForPing(port: number): Promise<void> {
  await until(`redis-server on ${port}`, async () => (await command(port, 'PING')) === 'PONG', 10_000);
}

/**
 * Start `masters` cluster-enabled nodes, join them with `redis-cli --cluster create` (no replicas, even slot
 * split), and wait until every node reports `cluster_state:ok`, knows every node and shows the same slot map.
 */
export async function startRedisCluster(options: { masters?: number } = {}): Promise<RedisClusterTopology> {
  const masters = options.masters ?? 3;
  const procs = new Processes(await mkdtemp(join(tmpdir(), 'vb-redis-cluster-')));
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) ports.push(await freePort());
    for (const port of ports) {
      procs.spawn([
        ...dataNodeArgs(port, procs.dir),
        '--cluster-enabled', 'yes', '--cluster-config-file', join(procs.dir, `nodes-${port}.conf`),
        '--cluster-node-timeout', '3000',
      ]); // prettier-ignore
    }
    await Promise.all(ports.map(waitForPing));
    const addresses = ports.map((port) => `${HOST}:${port}`);
    await new Promise<void>((resolve, reject) =>
      execFile(
        'redis-cli',
        ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
        { timeout: 30_000 },
        (error, stdout, stderr) => (error ? reject(new Error(`cluster create failed: ${stdout}${stderr}`)) : resolve()),
      ),
    );
    await until('every cluster node to agree on cluster_state:ok', async () => {
      const slotMaps = new Set<string>();
      for (const port of ports) {
        const info = String(await command(port, 'CLUSTER', 'INFO'));
        if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${masters}`)) return false;
        const slots = (await command(port, 'CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
        slotMaps.add(JSON.stringify(slots.map(([from, to, [, owner]]) => [from, to, owner]).sort()));
      }
      return slotMaps.size === 1;
    });
    const nodes = ports.map((port) => ({ host: HOST, port }));
    return { nodes, env: addresses.join(','), stop: () => procs.stop() };
  } catch (error) {
    await procs.stop();
    throw error;
  }
}

/**
 * Start a master, one replica and one Sentinel (quorum 1, 1 s down-after) and wait until the replica is in sync
 * and Sentinel knows it, so a `failover()` can succeed at once.
 */
export async function startRedisSentinel(options: { name?: string } = {}): Promise<RedisSentinelTopology> {
  const name = options.name ?? 'vbmaster';
  const procs = new Processes(await mkdtemp(join(tmpdir(), 'vb-redis-sentinel-')));
  try {
    const [first, second, sentinelPort] = [await freePort(), await freePort(), await freePort()];
    procs.spawn(dataNodeArgs(first, procs.dir));
    procs.spawn([...dataNodeArgs(second, procs.dir), '--replicaof', HOST, String(first)]);
    await Promise.all([first, second].map(waitForPing));
    await until('the replica to sync', async () => replicaInSync(second));
    const conf = join(procs.dir, 'sentinel.conf');
    await writeFile(
      conf,
      [
        `port ${sentinelPort}`,
        `bind ${HOST}`,
        `dir ${procs.dir}`,
        `logfile ${join(procs.dir, 'sentinel.log')}`,
        `sentinel monitor ${name} ${HOST} ${first} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    procs.spawn([conf, '--sentinel']);
    await waitForPing(sentinelPort);
    await until('Sentinel to know the replica', async () => sentinelSeesReplica(sentinelPort, name));

    const masterPort = async () => {
      const [, port] = (await command(sentinelPort, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as string[];
      return Number(port);
    };
    const replicaPort = async () => ((await masterPort()) === first ? second : first);
    const failover = async () => {
      // SENTINEL FAILOVER needs a replica Sentinel considers good (it learns of one from INFO every few seconds).
      await until('Sentinel to know a good replica', async () => sentinelSeesReplica(sentinelPort, name));
      const from = await masterPort();
      const to = from === first ? second : first;
      // Refused (NOGOODSLAVE) while Sentinel's view of the replica is not fresh enough yet: ask again.
      await until('Sentinel to start the failover', async () => {
        return (await command(sentinelPort, 'SENTINEL', 'FAILOVER', name)) === 'OK';
      });
      await until('Sentinel to report the new master', async () => (await masterPort()) === to);
      await until('the new master to take writes', async () => role(to).then((r) => r === 'master'));
      // Sentinel demotes the old master only at its next INFO round (up to 10 s later), and until then the old
      // master still takes writes from clients that stay on it. Do now what Sentinel will do, so the test does
      // not depend on that window (Sentinel's own REPLICAOF later is a no-op).
      await command(from, 'REPLICAOF', HOST, String(to));
      await until('the old master to follow the new one', async () => replicaInSync(from));
      return { from, to };
    };
    const sentinels = [{ host: HOST, port: sentinelPort }];
    const env = `${HOST}:${sentinelPort}`;
    return { sentinels, name, env, masterPort, replicaPort, failover, stop: () => procs.stop() };
  } catch (error) {
    await procs.stop();
    throw error;
  }
}

async function role(port: number): Promise<string> {
  const [kind] = (await command(port, 'ROLE')) as [string];
  return kind;
}

async function replicaInSync(port: number): Promise<boolean> {
  const info = String(await command(port, 'INFO', 'replication'));
  return info.includes('role:slave') && info.includes('master_link_status:up');
}

async function sentinelSeesReplica(sentinelPort: number, name: string): Promise<boolean> {
  const replicas = (await command(sentinelPort, 'SENTINEL', 'REPLICAS', name)) as string[][];
  return replicas.some((fields) => {
    const flags = fields[fields.indexOf('flags') + 1] ?? '';
    const link = fields[fields.indexOf('master-link-status') + 1];
    return flags === 'slave' && link === 'ok';
  });
}

/**
 * Stop every topology this process started and did not stop yet — also one whose start is still running (a
 * `beforeAll` that timed out never got its handle). Call it in `afterAll` after the topology's own `stop()`.
 */
export async function stopRedisTopologies(): Promise<void> {
  await Promise.all([...live].map((procs) => procs.stop()));
}

/** Whether redis-server is on PATH (a missing binary under CI=true is a failure, elsewhere a loud skip). */
export function redisServerAvailable(): Promise<boolean> {
  return new Promise((resolve, reject) => {
    execFile('redis-server', ['--version'], (error) => {
      if (!error) return resolve(true);
      const message = 'redis-server is not on PATH: the Redis Cluster/Sentinel suites cannot start their topologies';
      if (process.env.CI === 'true') return reject(new Error(`${message} (CI=true: services are required)`));
      // eslint-disable-next-line no-console -- a skipped suite must be loud in the test output
      console.warn(`\n!!! SKIPPING: ${message}.\n`);
      resolve(false);
    });
  });
}
