import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthorizeContext, ValiBlobModuleOptions } from '../../src/vali-blob.options';
import type { ValiBlobHttpOptions } from '../../src/vali-blob.options';
import { httpRequest, TestResponse } from '../support/http-client';
import { Platform, PLATFORMS, startTusApp, TusTestApp } from '../tus/tus-app';

/** `[name]` rows for `describe.each`: every REST and blob-route suite runs on each HTTP platform. */
export const EACH_PLATFORM = PLATFORMS.map((platform) => [platform] as [Platform]);

/** Base64 MD5 of a buffer, as `Content-MD5` carries it. */
export const md5b64 = (data: Buffer): string => createHash('md5').update(data).digest('base64');

/**
 * The authorize hook the REST suites use: `x-user` names the owner, `x-user: blocked` is refused with 403,
 * `x-user: nobody` with 401, no header is anonymous. It reads the header the same way on both platforms
 * (Fastify's request has `headers` too).
 */
export function xUserAuthorize({ request }: AuthorizeContext) {
  const user = (request as { headers: Record<string, string | undefined> }).headers['x-user'];
  if (user === 'blocked') return { allow: false as const, status: 403 as const };
  if (user === 'nobody') return false;
  return user ? { ownerId: user } : true;
}

/** A running app with the REST API at `/uploads` and the blob route at `/blobs`, and helpers to call them. */
export interface RestTestApp {
  t: TusTestApp;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Root of the local storage provider. */
  root: string;
  /** A temp dir outside the root, holding `secret.txt` (for escape attempts). */
  outside: string;
  /** `POST /uploads` with a JSON body. */
  start(body: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  /** `PUT /uploads/:id/chunks/:offset` with an octet-stream body. */
  put(id: string, offset: number | string, data: Buffer, headers?: Record<string, string>): Promise<TestResponse>;
  /** Any request on the app (`path` is sent exactly as given). */
  call(path: string, options?: Parameters<typeof httpRequest>[1]): Promise<TestResponse>;
  close(): Promise<void>;
}

/**
 * Start ValiBlob on `platform` over a real socket (app.listen(0)) with REST at `uploads`, the blob route at
 * `blobs`, a 64 MiB upload cap and the `x-user` authorize hook; `options`/`http` override those.
 */
export async function startRestApp(
  platform: Platform,
  options: ValiBlobModuleOptions = {},
  http: ValiBlobHttpOptions = { rest: { path: 'uploads' }, blobs: { path: 'blobs' }, tus: false },
): Promise<RestTestApp> {
  const outside = await mkdtemp(join(tmpdir(), 'vb-outside-'));
  await writeFile(join(outside, 'secret.txt'), 'secret');
  const t = await startTusApp(
    platform,
    { maxUploadSize: 64 * 1024 * 1024, authorize: xUserAuthorize, ...options },
    http,
  );
  const base = t.origin;
  const call = (path: string, init?: Parameters<typeof httpRequest>[1]) => httpRequest(`${base}${path}`, init);
  return {
    t,
    base,
    root: t.root,
    outside,
    call,
    start: (body, headers = {}) =>
      call('/uploads', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
    put: (id, offset, data, headers = {}) =>
      call(`/uploads/${id}/chunks/${offset}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream', ...headers },
        body: data,
      }),
    close: async () => {
      await t.close();
      await rm(outside, { recursive: true, force: true });
    },
  };
}
