import { httpRequest, TestResponse } from '../../test/support/http-client';
import { rangeStream } from './random-source';

/** Outcome of one client-side upload. */
export interface UploadOutcome {
  /** Upload id (tus/REST) or file name (raw pipe). */
  id: string;
  /** Milliseconds each chunk request took, in order. */
  chunkMs: number[];
  /** Whole-file sha256 the server reported (REST complete), when it reports one. */
  serverSha256?: string;
  /** Chunk requests the server refused with 503 + Retry-After (busy) and the client sent again, as tus clients do. */
  retries: number;
}

/** Options shared by the uploaders. */
export interface UploadOptions {
  /** Extra headers on every request (e.g. Authorization). */
  headers?: Record<string, string>;
  /** File name sent as tus metadata / REST path component. */
  name?: string;
}

function expectStatus(response: TestResponse, expected: number[], what: string): void {
  if (!expected.includes(response.status)) {
    throw new Error(`${what}: HTTP ${response.status} ${response.body.toString('utf8').slice(0, 300)}`);
  }
}

/** Most times one chunk is sent again after a 503 before the upload fails. */
const MAX_RETRIES = 30;

/**
 * Send one streamed chunk request (`call` makes a fresh body each time) and time the attempt that counted. A 503
 * (the server's write slots are full, `TOO_MANY_WRITES`, or it is shutting down) is retried after its
 * `Retry-After`, as tus-js-client and Uppy do; `outcome.retries` counts them.
 */
async function timed(
  call: () => Promise<TestResponse>,
  outcome: Pick<UploadOutcome, 'chunkMs' | 'retries'>,
): Promise<TestResponse> {
  for (let attempt = 0; ; attempt++) {
    const started = process.hrtime.bigint();
    const response = await call();
    if (response.status === 503 && attempt < MAX_RETRIES) {
      outcome.retries++;
      const seconds = Number(response.headers['retry-after'] ?? 1) || 1;
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      continue;
    }
    outcome.chunkMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    return response;
  }
}

/** tus 1.0: POST (creation) then one PATCH per chunk, each body streamed from the generator. */
export async function tusUpload(
  base: string,
  size: number,
  chunkSize: number,
  options: UploadOptions = {},
): Promise<UploadOutcome> {
  const headers = { 'Tus-Resumable': '1.0.0', ...options.headers };
  const name = Buffer.from(options.name ?? 'bench.bin').toString('base64');
  const created = await httpRequest(`${base}/files`, {
    method: 'POST',
    headers: { ...headers, 'Upload-Length': size, 'Upload-Metadata': `filename ${name}` },
  });
  expectStatus(created, [201], 'tus POST');
  const location = String(created.headers.location);
  const url = location.startsWith('http') ? location : `${base}${location}`;
  const id = url.split('/').pop()!;
  const outcome = { chunkMs: [] as number[], retries: 0 };
  for (let offset = 0; offset < size; offset += chunkSize) {
    const end = Math.min(size, offset + chunkSize);
    const response = await timed(
      () =>
        httpRequest(url, {
          method: 'PATCH',
          headers: {
            ...headers,
            'Upload-Offset': offset,
            'Content-Type': 'application/offset+octet-stream',
            'Content-Length': end - offset,
          },
          body: rangeStream(offset, end),
        }),
      outcome,
    );
    expectStatus(response, [204], `tus PATCH at ${offset}`);
  }
  return { id, ...outcome };
}

/** REST: POST /uploads, one PUT per chunk, POST complete. */
export async function restUpload(
  base: string,
  size: number,
  chunkSize: number,
  options: UploadOptions = {},
): Promise<UploadOutcome> {
  const headers = { ...options.headers };
  const created = await httpRequest(`${base}/uploads`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ totalSize: size, path: options.name ? `bench/${options.name}` : undefined }),
  });
  expectStatus(created, [201], 'REST create');
  const id = created.json.uploadId as string;
  const outcome = { chunkMs: [] as number[], retries: 0 };
  for (let offset = 0; offset < size; offset += chunkSize) {
    const end = Math.min(size, offset + chunkSize);
    const response = await timed(
      () =>
        httpRequest(`${base}/uploads/${id}/chunks/${offset}`, {
          method: 'PUT',
          headers: { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': end - offset },
          body: rangeStream(offset, end),
        }),
      outcome,
    );
    expectStatus(response, [200], `REST chunk at ${offset}`);
  }
  const completed = await httpRequest(`${base}/uploads/${id}/complete`, { method: 'POST', headers });
  expectStatus(completed, [200], 'REST complete');
  return { id, ...outcome, serverSha256: completed.json.session.checksum as string };
}

/** The raw baseline: one PUT per chunk to the tiny http → fs server (bench/support/raw-pipe.server.ts). */
export async function rawUpload(
  base: string,
  size: number,
  chunkSize: number,
  options: UploadOptions = {},
): Promise<UploadOutcome> {
  const id = options.name ?? `raw-${Date.now()}`;
  const outcome = { chunkMs: [] as number[], retries: 0 };
  for (let offset = 0; offset < size; offset += chunkSize) {
    const end = Math.min(size, offset + chunkSize);
    const response = await timed(
      () =>
        httpRequest(`${base}/raw/${id}?offset=${offset}`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': end - offset },
          body: rangeStream(offset, end),
        }),
      outcome,
    );
    expectStatus(response, [204], `raw PUT at ${offset}`);
  }
  return { id, ...outcome };
}
