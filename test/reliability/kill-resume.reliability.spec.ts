import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest } from '../support/http-client';
import { ServerProcess, startServer } from '../support/server-process';
import { PG_URL, serviceAvailable } from '../support/services';
import {
  CHUNK,
  finishedState,
  FULL,
  partialRequest,
  randomInt,
  restCreate,
  resumeToEnd,
  scratchPostgres,
  sendChunk,
  serverOffset,
  sha256,
  sleep,
  tusCreate,
  TUS,
} from './reliability.support';

/** Kill points per database: the 25 in the full run, a few in the reduced run of `npm test`. */
const POINTS = FULL ? 25 : 3;
const MODES = ['streaming', 'between', 'complete'] as const;
type Mode = (typeof MODES)[number];

/**
 * SIGKILL the real server (`npm start`) at a random point of an upload — while a chunk body is streaming,
 * between two chunks, or while the upload completes — restart it on the same database and storage, ask for the
 * status, resume like a client would, and check the served blob and the recorded sha256 equal what was sent.
 * The kill points are random; each failure message names the point (mode, protocol, offsets) to reproduce it.
 */
describe.each([
  ['SQLite', 'sqlite'],
  ['PostgreSQL', 'postgres'],
] as const)('SIGKILL mid-upload, restart, resume (%s)', (label, kind) => {
  let dir: string;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let pg: { url: string; drop(): Promise<void> } | undefined;
  let available = true;

  beforeAll(async () => {
    if (kind === 'postgres') {
      available = await serviceAvailable('PostgreSQL', PG_URL);
      if (!available) return;
      pg = await scratchPostgres('kill');
    }
    dir = await mkdtemp(join(tmpdir(), `vb-rel-kill-${kind}-`));
    env = {
      STORAGE_DIR: join(dir, 'blobs'),
      DATABASE_URL: pg ? pg.url : `sqlite:${join(dir, 'sessions.sqlite')}`,
      // A killed holder's upload lock lapses after this (default 30 s); the resume below waits it out.
      SQL_LOCK_TTL_MS: '1500',
    };
    server = await startServer(env);
  }, 120_000);

  afterAll(async () => {
    await server?.kill();
    await pg?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it(
    `survives ${POINTS} random kill points with byte-exact resumes`,
    async () => {
      if (!available) return;
      const done: string[] = [];
      for (let point = 0; point < POINTS; point++) {
        const mode: Mode = MODES[point % MODES.length];
        const protocol = point % 2 === 0 ? 'tus' : 'rest';
        const data = randomBytes(randomInt(3 * CHUNK, 6 * CHUNK) + randomInt(0, CHUNK - 1));
        const chunks = Math.ceil(data.length / CHUNK);
        const base = server!.url;
        const id = protocol === 'rest' ? await restCreate(base, data.length) : await tusCreate(base, data.length);
        // Chunks acknowledged before the kill (all of them except the last for "complete").
        const acked = mode === 'complete' ? chunks - 1 : randomInt(0, chunks - 1);
        let offset = 0;
        for (let i = 0; i < acked; i++) {
          const response = await sendChunk(base, protocol, id, data, offset);
          expect([200, 204]).toContain(response.status);
          offset = Number(response.headers['upload-offset']);
        }
        const ackedOffset = offset;
        let sentOffset = offset;
        const where = `point ${point}: ${mode}, ${protocol}, ${data.length} bytes, killed after offset ${ackedOffset}`;

        if (mode === 'streaming') {
          const length = Math.min(CHUNK, data.length - offset);
          const send = randomInt(1, length - 1);
          const body = data.subarray(offset, offset + length);
          const headers =
            protocol === 'rest'
              ? { 'Content-Type': 'application/octet-stream' }
              : { ...TUS, 'Upload-Offset': offset, 'Content-Type': 'application/offset+octet-stream' };
          const url = protocol === 'rest' ? `${base}/uploads/${id}/chunks/${offset}` : `${base}/files/${id}`;
          const pending = await partialRequest(url, protocol === 'rest' ? 'PUT' : 'PATCH', headers, body, send);
          sentOffset = offset + send;
          await sleep(randomInt(20, 150));
          await server!.kill();
          pending.destroy();
        } else if (mode === 'between') {
          await sleep(randomInt(0, 50));
          await server!.kill();
        } else {
          // Last chunk (tus completes with it) or, for REST, the last chunk then complete; the kill lands somewhere
          // in there while the requests are in flight.
          const last = sendChunk(base, protocol, id, data, offset).catch((e: Error) => e);
          sentOffset = data.length;
          if (protocol === 'rest') {
            const response = await last;
            if (!(response instanceof Error) && response.status === 200) {
              void httpRequest(`${base}/uploads/${id}/complete`, { method: 'POST' }).catch(() => undefined);
            }
          }
          await sleep(randomInt(0, 25));
          await server!.kill();
          await last;
        }

        server = await startServer(env);
        const resumedAt = await serverOffset(server.url, protocol, id);
        // Offsets only ever cover bytes that reached the server, and never lose an acknowledged chunk.
        expect({ where, ok: resumedAt >= ackedOffset && resumedAt <= sentOffset }).toEqual({ where, ok: true });
        await resumeToEnd(server.url, protocol, id, data);
        const state = await finishedState(server.url, id);
        expect({ where, ...state }).toEqual({
          where,
          status: 'Complete',
          checksum: sha256(data),
          served: sha256(data),
        });
        done.push(where);
      }
      expect(done).toHaveLength(POINTS);
    },
    FULL ? 1_800_000 : 240_000,
  );
});
