import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisSessionStore } from '../../src/sessions/redis/redis-session.store';
import {
  RedisClusterTopology,
  redisServerAvailable,
  startRedisCluster,
  stopRedisTopologies,
} from '../support/redis-topology';
import { ServerProcess, startServer } from '../support/server-process';
import { newPartition } from './redis-store.cases';
import { raceOneTusUpload } from './tus-two-servers';

/*
 * Two real server processes (`npm start`) on a real 3-master Redis Cluster (`REDIS_CLUSTER`), sharing sessions
 * and locks only through it, race and finish one tus upload.
 */

const available = redisServerAvailable();

describe('Two servers on a Redis Cluster (REDIS_CLUSTER)', () => {
  let topology: RedisClusterTopology | undefined;
  let storageDir: string | undefined;
  const partition = newPartition();
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    if (!(await available)) return;
    topology = await startRedisCluster({ masters: 3 });
    storageDir = await mkdtemp(join(tmpdir(), 'vb-cluster-e2e-'));
    const env = {
      REDIS_CLUSTER: topology.env,
      REDIS_PARTITION: partition,
      REDIS_LOCK_TTL_MS: '3000',
      STORAGE_DIR: storageDir,
    };
    servers.push(...(await Promise.all([startServer(env), startServer(env)])));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await topology?.stop();
    await stopRedisTopologies();
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  }, 30_000);

  beforeEach(() => {
    if (!topology) throw new Error('Redis Cluster unavailable: see the SKIPPING message above');
  });

  it('both servers say they use the Cluster', () => {
    for (const server of servers) {
      expect(server.output()).toContain(`Redis sessions and locks at Redis Cluster at ${topology!.env}`);
    }
  });

  it('races and finishes one tus upload across both servers; the session is Complete in the Cluster', async () => {
    const [a, b] = servers;
    const { id, data } = await raceOneTusUpload(a, b);
    const store = new RedisSessionStore({ connection: { cluster: topology!.nodes }, partition });
    try {
      expect(await store.get(id)).toMatchObject({ uploadId: id, status: 'Complete', uploadedBytes: data.length });
    } finally {
      await store.close();
    }
  }, 60_000);
});
