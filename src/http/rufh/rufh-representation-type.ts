import type { IncomingMessage } from 'node:http';
import type { HttpExchange } from '../http-exchange';
import { mediaType } from '../tus/tus-headers';
import { INTEROP_HEADER } from './rufh-protocol';

/** Representation types of draft creation requests whose `Content-Type` was swapped before Fastify parsed them. */
const representationTypes = new WeakMap<IncomingMessage, string>();

/** What the swapped requests carry instead: a type the upload routes' pass-through parser streams untouched. */
const STREAMED_TYPE = 'application/octet-stream';

/** The slice of a Fastify request the hook reads. */
interface HookedRequest {
  raw: IncomingMessage;
  url?: string;
  method?: string;
}

/** The slice of a Fastify instance the hook needs (Fastify is an optional peer: no import of its types). */
export interface FastifyHooks {
  addHook(name: 'onRequest', hook: (request: HookedRequest, reply: unknown, done: () => void) => void): void;
}

/**
 * On Fastify, keep a draft request's content away from the body parsers. A creation's `Content-Type` names the
 * representation (`application/json`, `text/plain`, …), and an interop-5 append may carry any type; Fastify's own
 * parsers would read them (and refuse empty ones) before the route runs. An `onRequest` hook — before parsing —
 * files the type away for the handler and labels the request `application/octet-stream`, which ValiBlob's
 * pass-through parser leaves as a stream. Only POSTs and PATCHes carrying `Upload-Draft-Interop-Version` under
 * `isUploadRoute` are touched.
 */
export function shieldDraftContent(fastify: FastifyHooks, isUploadRoute: (url: string | undefined) => boolean): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const { raw } = request;
    const type = raw.headers['content-type'];
    // Creations (POST) and appends (PATCH, where interop 5 allows any type) carry content Fastify must not parse.
    const withContent = raw.method === 'POST' || raw.method === 'PATCH';
    const draft = withContent && raw.headers[INTEROP_HEADER] !== undefined;
    if (draft && type !== undefined && isUploadRoute(request.url?.split('?')[0])) {
      representationTypes.set(raw, type);
      raw.headers['content-type'] = STREAMED_TYPE;
    }
    done();
  });
}

/**
 * The media type (lower-case, no parameters) and full value of the `Content-Type` the client sent, also when the
 * Fastify hook relabelled the request (a creation, or an append sent as POST + `X-HTTP-Method-Override`).
 */
export function representationType(exchange: HttpExchange): { media?: string; value?: string } {
  const stashed = representationTypes.get(exchange.req);
  if (stashed === undefined) return { media: mediaType(exchange), value: exchange.header('content-type') };
  return { media: stashed.split(';')[0].trim().toLowerCase() || undefined, value: stashed };
}
