import { createHash, randomBytes } from 'node:crypto';
import type { ServerProcess } from '../support/server-process';

/*
 * tus calls against real server processes, shared by the Cluster and Sentinel multi-instance suites.
 */

const TUS = { 'tus-resumable': '1.0.0' };

/** sha256 hex of some bytes. */
export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Create a tus upload of `length` bytes on `server`; returns its id. */
export async function tusCreate(server: ServerProcess, length: number): Promise<string> {
  const created = await fetch(`${server.url}/files`, {
    method: 'POST',
    headers: { ...TUS, 'upload-length': String(length) },
  });
  if (created.status !== 201) throw new Error(`tus create: ${created.status} ${await created.text()}`);
  return created.headers.get('location')!.split('/').pop()!;
}

/** One PATCH; status and error code. */
export async function tusPatch(
  server: ServerProcess,
  id: string,
  offset: number,
  body: Buffer,
): Promise<{ status: number; code?: string }> {
  const response = await fetch(`${server.url}/files/${id}`, {
    method: 'PATCH',
    headers: { ...TUS, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
    body,
  });
  const text = await response.text();
  let code: string | undefined;
  try {
    code = text ? (JSON.parse(text) as { code?: string }).code : undefined;
  } catch {
    code = undefined;
  }
  return { status: response.status, code };
}

/** The committed offset (HEAD). */
export async function tusOffset(server: ServerProcess, id: string): Promise<number> {
  const response = await fetch(`${server.url}/files/${id}`, { method: 'HEAD', headers: TUS });
  if (response.status !== 200) throw new Error(`tus HEAD: ${response.status}`);
  return Number(response.headers.get('upload-offset'));
}

/** The finished upload's bytes (GET). */
export async function tusDownload(server: ServerProcess, id: string): Promise<Buffer> {
  const response = await fetch(`${server.url}/files/${id}`);
  if (response.status !== 200) throw new Error(`tus GET: ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/**
 * What a tus client does: send `data` from the server's committed offset, retrying on the retryable answers
 * (423 locked, 409 offset moved, 503 store briefly unavailable, 400 interrupted) until all of it is committed.
 */
export async function tusSendRest(servers: ServerProcess[], id: string, data: Buffer, chunk: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (let turn = 0; ; turn++) {
    const server = servers[turn % servers.length];
    let offset: number;
    try {
      offset = await tusOffset(server, id);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    if (offset === data.length) return;
    const reply = await tusPatch(server, id, offset, data.subarray(offset, offset + chunk));
    if (reply.status === 204) continue;
    if (![400, 409, 423, 503].includes(reply.status) || Date.now() > deadline) {
      throw new Error(`PATCH at ${offset} on ${server.url}: ${reply.status} ${reply.code}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Two servers race same-offset PATCH pairs on one upload, then it is finished alternating between them: at most
 * one winner per pair, losers get 409/423 (400 when interrupted), bytes exact. Returns the upload's id.
 */
export async function raceOneTusUpload(
  a: ServerProcess,
  b: ServerProcess,
  pairs = 12,
): Promise<{ id: string; data: Buffer }> {
  const chunk = 64 * 1024;
  const data = randomBytes(chunk * pairs + 1234);
  const id = await tusCreate(a, data.length);
  let offset = 0;
  for (let pair = 0; pair < pairs; pair++) {
    const body = data.subarray(offset, offset + chunk);
    const replies = await Promise.all([tusPatch(a, id, offset, body), tusPatch(b, id, offset, body)]);
    expect(replies.filter((r) => r.status === 204).length).toBeLessThanOrEqual(1);
    for (const loser of replies.filter((r) => r.status !== 204)) {
      expect(['409 OFFSET_MISMATCH', '423 UPLOAD_LOCKED', '400 UPLOAD_INTERRUPTED']).toContain(
        `${loser.status} ${loser.code}`,
      );
    }
    offset = await tusOffset(pair % 2 ? a : b, id);
  }
  await tusSendRest([b, a], id, data, chunk);
  expect(sha256(await tusDownload(a, id))).toBe(sha256(data));
  return { id, data };
}
