import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Client } from 'pg';
import { httpRequest, TestResponse } from '../support/http-client';
import { PG_URL } from '../support/services';

/**
 * `RELIABILITY_FULL=1` (what `npm run test:reliability` sets): the full counts; otherwise the reduced run
 * of `npm test`.
 */
export const FULL = process.env.RELIABILITY_FULL === '1';

/** Chunk size every reliability client uses. */
export const CHUNK = 512 * 1024;

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Uniform random integer in [min, max]. */
export function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** The tus request headers. */
export const TUS = { 'Tus-Resumable': '1.0.0' };

/**
 * Start a request whose body is `data` (Content-Length = its full length) but send only the first `sendBytes`;
 * the request stays open until the caller destroys it (client disconnect) or the server dies. Resolves once those
 * bytes are handed to the socket.
 */
export async function partialRequest(
  url: string,
  method: string,
  headers: Record<string, string | number>,
  data: Buffer,
  sendBytes: number,
): Promise<{ destroy(): void; response: Promise<TestResponse | Error> }> {
  const { hostname, port, pathname } = new URL(url);
  const req = request({
    host: hostname,
    port,
    path: pathname,
    method,
    headers: { ...headers, 'Content-Length': data.length },
  });
  const response = new Promise<TestResponse | Error>((resolve) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), json: undefined }),
      );
      res.on('error', resolve);
    });
    req.on('error', resolve);
  });
  await new Promise<void>((resolve) => req.write(data.subarray(0, sendBytes), () => resolve()));
  return { destroy: () => req.destroy(), response };
}

/** Retry a request while the upload is locked (423) or the server is briefly unavailable (503), as tus clients do. */
export async function retrying(call: () => Promise<TestResponse>, deadlineMs = 60_000): Promise<TestResponse> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const response = await call();
    if ((response.status !== 423 && response.status !== 503) || Date.now() > deadline) return response;
    await sleep(100);
  }
}

/** Create a REST upload; returns its id. */
export async function restCreate(base: string, size: number, headers: Record<string, string> = {}): Promise<string> {
  const created = await httpRequest(`${base}/uploads`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ totalSize: size }),
  });
  if (created.status !== 201) throw new Error(`REST create: ${created.status} ${created.body}`);
  return created.json.uploadId;
}

/** Create a tus upload; returns its id. */
export async function tusCreate(base: string, size: number, headers: Record<string, string> = {}): Promise<string> {
  const created = await httpRequest(`${base}/files`, {
    method: 'POST',
    headers: {
      ...TUS,
      ...headers,
      'Upload-Length': size,
      'Upload-Metadata': `filename ${Buffer.from('data.bin').toString('base64')}`,
    },
  });
  if (created.status !== 201) throw new Error(`tus create: ${created.status} ${created.body}`);
  return String(created.headers.location).split('/').pop()!;
}

/** One chunk request (REST PUT or tus PATCH) of `data[offset, offset + length)`. */
export function sendChunk(
  base: string,
  protocol: 'rest' | 'tus',
  id: string,
  data: Buffer,
  offset: number,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  const body = data.subarray(offset, Math.min(data.length, offset + CHUNK));
  return protocol === 'rest'
    ? httpRequest(`${base}/uploads/${id}/chunks/${offset}`, {
        method: 'PUT',
        headers: { ...headers, 'Content-Type': 'application/octet-stream' },
        body,
      })
    : httpRequest(`${base}/files/${id}`, {
        method: 'PATCH',
        headers: { ...TUS, ...headers, 'Upload-Offset': offset, 'Content-Type': 'application/offset+octet-stream' },
        body,
      });
}

/** The server's offset for an upload: REST `GET /uploads/:id` or tus `HEAD /files/:id` (retried while locked). */
export async function serverOffset(
  base: string,
  protocol: 'rest' | 'tus',
  id: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const response = await retrying(() =>
    protocol === 'rest'
      ? httpRequest(`${base}/uploads/${id}`, { headers })
      : httpRequest(`${base}/files/${id}`, { method: 'HEAD', headers: { ...TUS, ...headers } }),
  );
  if (response.status !== 200) throw new Error(`status of ${id}: ${response.status} ${response.body}`);
  return Number(response.headers['upload-offset']);
}

/**
 * Finish an upload the way a real client resumes: ask for the offset, send the rest chunk by chunk (re-asking after
 * a 409), and for REST call complete (tus completes with its last PATCH; a tus client whose HEAD shows the full
 * length considers the upload done and sends nothing more, as tus-js-client does).
 */
export async function resumeToEnd(
  base: string,
  protocol: 'rest' | 'tus',
  id: string,
  data: Buffer,
  headers: Record<string, string> = {},
): Promise<void> {
  const deadline = Date.now() + 90_000;
  let offset = await serverOffset(base, protocol, id, headers);
  while (offset < data.length) {
    if (Date.now() > deadline) throw new Error(`resume of ${id} did not finish (offset ${offset})`);
    const response = await retrying(() => sendChunk(base, protocol, id, data, offset, headers));
    if (response.status === 409) {
      offset = await serverOffset(base, protocol, id, headers);
      continue;
    }
    if (response.status !== 200 && response.status !== 204)
      throw new Error(`chunk at ${offset}: ${response.status} ${response.body}`);
    offset = Number(response.headers['upload-offset']);
  }
  if (protocol === 'rest') {
    const completed = await retrying(() => httpRequest(`${base}/uploads/${id}/complete`, { method: 'POST', headers }));
    if (completed.status !== 200) throw new Error(`complete of ${id}: ${completed.status} ${completed.body}`);
  }
}

/** The finished upload as the server serves it: its session view and the sha256 of its blob's bytes. */
export async function finishedState(
  base: string,
  id: string,
  headers: Record<string, string> = {},
): Promise<{ status: string; checksum: string | null; served: string }> {
  const view = await retrying(() => httpRequest(`${base}/uploads/${id}`, { headers }));
  if (view.status !== 200) throw new Error(`GET /uploads/${id}: ${view.status} ${view.body}`);
  const blob = await httpRequest(`${base}/blobs/${view.json.path}`, { headers });
  return {
    status: view.json.status,
    checksum: view.json.checksum,
    served: blob.status === 200 ? sha256(blob.body) : `HTTP ${blob.status}`,
  };
}

/** A PostgreSQL database of the test's own (uniquely named), dropped by `drop()`. */
export async function scratchPostgres(tag: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `valiblob_rel_${tag}_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}
