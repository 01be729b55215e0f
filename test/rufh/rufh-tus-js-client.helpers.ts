import type { ClientRequest, IncomingHttpHeaders, InformationEvent } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DefaultHttpStack, HttpStack, Upload, UploadOptions } from 'tus-js-client';
import { ResumableUploadService } from '../../src/uploads/resumable-upload.service';
import type { TusTestApp } from '../tus/tus-app';
import { sha256 } from '../tus/tus-http';

/** tus-js-client's draft protocols and the `Upload-Draft-Interop-Version` each sends (lib/upload.js openRequest). */
export const DRAFT_PROTOCOLS = [
  ['ietf-draft-03', '5'],
  ['ietf-draft-05', '6'],
] as const;
/** One of tus-js-client's draft protocol names. */
export type DraftProtocol = (typeof DRAFT_PROTOCOLS)[number][0];
/** tus-js-client 4.3 reads `protocol` at runtime (lib/upload.js) but its typings (index.d.ts) do not declare it. */
export type DraftUploadOptions = UploadOptions & { protocol: DraftProtocol };

/** One request tus-js-client sent and what came back, 1xx interim answers included. */
export interface Exchange {
  method: string;
  url: string;
  /** The request's headers as tus-js-client set them. */
  sent: (name: string) => string | undefined;
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  interim: { status: number; headers: IncomingHttpHeaders }[];
}

/**
 * tus-js-client's own Node HTTP stack, recording every exchange into `log`. It also listens for the 104 interim
 * answers the draft sends (node:http surfaces them as `information` events), which `onAfterResponse` never sees.
 */
export function recordingStack(log: Exchange[]): HttpStack {
  const inner = new DefaultHttpStack({});
  return {
    getName: () => 'RecordingNodeHttpStack',
    createRequest(method: string, url: string) {
      const req = inner.createRequest(method, url);
      const send = req.send.bind(req);
      req.send = async (body: unknown) => {
        const interim: Exchange['interim'] = [];
        const pending = send(body);
        // send() creates the ClientRequest synchronously, so no interim answer can arrive before this listener.
        (req.getUnderlyingObject() as ClientRequest).on('information', (info: InformationEvent) =>
          interim.push({ status: info.statusCode, headers: info.headers }),
        );
        const res = await pending;
        const headers = (res.getUnderlyingObject() as { headers: IncomingHttpHeaders }).headers;
        log.push({
          method,
          url,
          sent: (n) => req.getHeader(n),
          status: res.getStatus(),
          headers,
          body: res.getBody(),
          interim,
        });
        return res;
      };
      return req;
    },
  };
}

/** Run one tus-js-client upload to completion (no retries, so no error is papered over); resolves with its URL. */
export function runUpload(input: Buffer | Readable, options: DraftUploadOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(
      input as Buffer,
      {
        retryDelays: null,
        ...options,
        onError: reject,
        onSuccess: () => resolve(upload.url!),
      } as DraftUploadOptions,
    );
    upload.start();
  });
}

/** A byte-mode Readable of `data` in 64 KiB pieces, of unknown size to tus-js-client (its StreamSource). */
export function streamOf(data: Buffer): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += 64 * 1024) pieces.push(data.subarray(at, at + 64 * 1024));
  return Readable.from(pieces, { objectMode: false });
}

/** Upload id: the last path segment of the upload URL. */
export function idOf(url: string): string {
  return url.split('/').pop()!;
}

/** sha256 of the blob an upload stored (read from the provider's directory), and the engine's record of it. */
export async function stored(
  t: TusTestApp,
  url: string,
): Promise<{ fileSha: string; sessionSha: string | null; path: string; totalSize: number | null }> {
  const session = await t.app.get(ResumableUploadService).getSession(idOf(url));
  expect(session.status).toBe('Complete');
  const bytes = await readFile(join(t.root, session.path));
  return { fileSha: sha256(bytes), sessionSha: session.checksum, path: session.path, totalSize: session.totalSize };
}

/** sha256 of what a plain GET of the upload URL serves. */
export async function downloadedSha(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return sha256(Buffer.from(await res.arrayBuffer()));
}

/** A HEAD (offset retrieval) as the draft client sends it. */
export async function draftHead(url: string, version: string): Promise<Response> {
  return fetch(url, { method: 'HEAD', headers: { 'Upload-Draft-Interop-Version': version } });
}

/** Every answer (final and interim) was the draft's: it names the client's interop version and is not tus. */
export function expectDraftAnswers(log: Exchange[], version: string): void {
  expect(log.length).toBeGreaterThan(0);
  for (const answer of log.flatMap((e) => [e, ...e.interim])) {
    expect({ status: answer.status, interop: answer.headers['upload-draft-interop-version'] }).toEqual({
      status: answer.status,
      interop: version,
    });
    expect(answer.headers['tus-resumable']).toBeUndefined();
  }
}
