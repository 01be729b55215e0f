import { createHash } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { parseDictionary, parseItem } from 'structured-headers';
import type { ValiBlobModuleOptions } from '../../src/vali-blob.options';
import { Platform, startTusApp, TusTestApp } from '../tus/tus-app';

/** Interop version of the latest draft (Appendix "Draft Version Identification": "The current ... is 8"). */
export const INTEROP = 8;
/** §6: media type of an append's content. */
export const PARTIAL_UPLOAD = 'application/partial-upload';
/** §7: problem type URIs the draft registers. */
export const problemType = (name: 'mismatching-upload-offset' | 'completed-upload' | 'inconsistent-upload-length') =>
  `https://iana.org/assignments/http-problem-types#${name}`;

/** Run `fn` against its own app started with `options`; the app is closed even when `fn` fails. */
export async function withApp(
  platform: Platform,
  options: ValiBlobModuleOptions,
  fn: (t: TusTestApp) => Promise<void>,
): Promise<void> {
  const t = await startTusApp(platform, options);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/** One interim (1xx) response as node's 'information' event reports it. */
export interface Interim {
  status: number;
  headers: IncomingHttpHeaders;
}

/** A final response plus every interim response that preceded it on the same request. */
export interface DraftResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  interim: Interim[];
}

/** A request whose body is written piece by piece, and that can be cut midway (socket destroyed). */
export interface OpenRequest {
  /** Interim responses received so far (filled as they arrive). */
  interim: Interim[];
  /** Resolves with the first interim response (never resolves if none comes). */
  firstInterim: Promise<Interim>;
  /** Write one piece of the body; resolves once node has handed it to the socket. */
  write(part: Buffer): Promise<void>;
  /** Finish the body (optionally with a last piece). */
  end(part?: Buffer): void;
  /** Destroy the socket mid-body, as a client whose connection breaks. */
  abort(): void;
  /** The final response, or undefined when the connection ended without one. */
  response: Promise<DraftResponse | undefined>;
}

/**
 * Open a request on its own connection (no agent, `Connection: close`) and record every 1xx through node's
 * 'information' event, which is the only way to see a 104 from node's client.
 */
export function openRequest(url: string, method: string, headers: Record<string, string>): OpenRequest {
  const interim: Interim[] = [];
  let onInterim: (i: Interim) => void = () => undefined;
  const firstInterim = new Promise<Interim>((resolve) => (onInterim = resolve));
  const req = request(url, { method, headers: { Connection: 'close', ...headers }, agent: false });
  req.on('information', (info) => {
    const entry = { status: info.statusCode, headers: info.headers };
    interim.push(entry);
    onInterim(entry);
  });
  const response = new Promise<DraftResponse | undefined>((resolve) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), interim }),
      );
      res.on('error', () => resolve(undefined));
    });
    // A destroyed or reset connection without a final response is a legitimate outcome of an interrupted body.
    req.on('error', () => resolve(undefined));
    req.on('close', () => setTimeout(() => resolve(undefined), 50));
  });
  req.flushHeaders();
  return {
    interim,
    firstInterim,
    write: (part) => new Promise<void>((resolve) => req.write(part, () => resolve())),
    end: (part) => (part ? req.end(part) : req.end()),
    abort: () => req.destroy(),
    response,
  };
}

/** One complete request; `chunked` sends the body without a Content-Length (the server cannot rely on it). */
export async function send(
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: Buffer,
  chunked = false,
): Promise<DraftResponse> {
  const framing: Record<string, string> = chunked
    ? { 'Transfer-Encoding': 'chunked' }
    : body && method !== 'HEAD' && method !== 'GET'
      ? { 'Content-Length': String(body.length) }
      : {};
  const open = openRequest(url, method, { ...framing, ...headers });
  open.end(body && body.length > 0 ? body : undefined);
  const res = await open.response;
  if (!res) throw new Error(`${method} ${url}: connection ended without a final response`);
  return res;
}

/** `promise`, or a rejection naming `what` once `ms` pass (a missing 104 fails the test instead of hanging it). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Header value as one string (node joins nothing for these single-valued fields). */
export const header = (res: { headers: IncomingHttpHeaders }, name: string): string | undefined => {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** Parse an sf-integer / sf-boolean item field (Upload-Offset, Upload-Length, Upload-Complete); throws if invalid. */
export function sfItem(value: string | undefined): number | boolean | undefined {
  if (value === undefined) return undefined;
  const [item] = parseItem(value);
  if (typeof item !== 'number' && typeof item !== 'boolean') throw new Error(`not an sf-integer/boolean: ${value}`);
  return item;
}

/** Parse `Upload-Limit` as an sf-dictionary (§4.1.4); every member's bare value. Throws on an invalid dictionary. */
export function uploadLimit(res: { headers: IncomingHttpHeaders }): Record<string, unknown> | undefined {
  const value = header(res, 'upload-limit');
  if (value === undefined) return undefined;
  return Object.fromEntries([...parseDictionary(value)].map(([key, [item]]) => [key, item]));
}

/** The problem+json body of a response (RFC 9457). */
export function problem(res: DraftResponse): Record<string, unknown> {
  expect(header(res, 'content-type')).toMatch(/^application\/problem\+json/);
  return JSON.parse(res.body) as Record<string, unknown>;
}

/** `sha-256=:<base64>:` as Content-Digest / Repr-Digest carry it (RFC 9530). */
export const sha256Field = (data: Buffer) => `sha-256=:${createHash('sha256').update(data).digest('base64')}:`;

/** The rules every draft answer follows, final or interim (contract + Appendix "Draft Version Identification"). */
export function expectDraftAnswer(res: DraftResponse, interop: number | string): void {
  expect(header(res, 'tus-resumable')).toBeUndefined();
  expect(header(res, 'upload-draft-interop-version')).toBe(String(interop));
  for (const i of res.interim) {
    if (i.status !== 104) continue;
    expect(i.headers['upload-draft-interop-version']).toBe(String(interop));
    expect(i.headers['tus-resumable']).toBeUndefined();
  }
}

/** A draft client bound to one endpoint and interop version; every answer is checked with `expectDraftAnswer`. */
export function draftClient(endpoint: string, interop: number | string = INTEROP) {
  const v = { 'Upload-Draft-Interop-Version': String(interop) };
  const abs = (location: string | undefined) => new URL(location ?? 'missing-location', endpoint).toString();
  const checked = async (p: Promise<DraftResponse>) => {
    const res = await p;
    expectDraftAnswer(res, interop);
    return res;
  };
  const api = {
    abs,
    headers: v,
    /** Upload creation (§4.2) with `Upload-Complete: ?1|?0`. */
    post: (complete: boolean | null, headers: Record<string, string> = {}, body?: Buffer, chunked = false) =>
      checked(
        send(
          endpoint,
          'POST',
          { ...v, ...(complete === null ? {} : { 'Upload-Complete': complete ? '?1' : '?0' }), ...headers },
          body ?? Buffer.alloc(0),
          chunked,
        ),
      ),
    /** Creation with `?0` that must succeed; returns the upload resource URL and the answer. */
    create: async (headers: Record<string, string> = {}, body?: Buffer) => {
      const res = await api.post(false, headers, body);
      expect(res.status).toBe(201);
      return { url: abs(header(res, 'location')), res };
    },
    /** Offset retrieval (§4.3). */
    head: (url: string) => checked(send(url, 'HEAD', v)),
    /** Upload append (§4.4) with the draft's media type. */
    patch: (
      url: string,
      offset: number,
      body: Buffer,
      complete: boolean,
      headers: Record<string, string> = {},
      chunked = false,
    ) =>
      checked(
        send(
          url,
          'PATCH',
          {
            ...v,
            'Upload-Offset': String(offset),
            'Upload-Complete': complete ? '?1' : '?0',
            'Content-Type': PARTIAL_UPLOAD,
            ...headers,
          },
          body,
          chunked,
        ),
      ),
    /** Upload cancellation (§4.5). */
    del: (url: string) => checked(send(url, 'DELETE', v)),
    /** The stored bytes of a completed upload (GET on the upload resource, as tus serves it). */
    bytes: async (url: string) => {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      return Buffer.from(await res.arrayBuffer());
    },
  };
  return api;
}

/** What `draftClient` returns. */
export type DraftClient = ReturnType<typeof draftClient>;
